#!/usr/bin/env node
// The `zfs` command npm links into node_modules/.bin: it exists before the build (npm links bins at install
// time, when dist/ is not there yet) and runs the built CLI.
import '../dist/cli/zfs-main.js';
