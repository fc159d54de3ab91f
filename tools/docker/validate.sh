#!/usr/bin/env bash
# The quick check of the ordinary test run: both compose files parse and validate with the compose tool at
# hand (Debian's docker-compose 1.29, or Compose v2 as `docker compose`), without a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "validate: neither docker-compose nor \`docker compose\` is installed (apt-get install docker-compose)" >&2
  exit 1
fi
"${compose[@]}" -f docker/compose.yaml config -q
"${compose[@]}" -f docker/compose.yaml -f docker/compose.host.yaml config -q
"${compose[@]}" -f docker/compose.yaml --profile demo config -q
echo "validate: docker/compose.yaml and docker/compose.host.yaml are valid (${compose[*]})"
