#!/usr/bin/env node
// `zpool`: a thin client of the ZFS storage domain, acting as dom0 on the Dominion bus.
import { runCli } from './run-cli.js';
import { runZpool } from './zpool.js';

runCli('zpool', runZpool);
