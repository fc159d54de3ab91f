#!/usr/bin/env node
// `zfs`: a thin client of the ZFS storage domain, acting as dom0 on the Dominion bus.
import { runCli } from './run-cli.js';
import { runZfs } from './zfs.js';

runCli('zfs', runZfs);
