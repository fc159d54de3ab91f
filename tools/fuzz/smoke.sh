#!/usr/bin/env bash
# The fuzzers' short run for tools/test.sh: every target for ~3 s (seeds replayed first); exits 1 on a
# crash, hang or over-bound allocation, with the input saved under tools/fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node tools/fuzz/run.mjs --time 18 --timeout 5 "$@"
