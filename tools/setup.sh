#!/usr/bin/env bash
# Installs what is missing and builds everything. Idempotent; used by `npm start` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true

# System packages the services and tests use: nats-server (the bus), xenstore-utils (stock clients
# that judge our xenstored).
need=()
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null || need+=(nats-server)
command -v xenstore-ls >/dev/null || need+=(xenstore-utils)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm packages: reinstall only when the lock file changed since the last install.
stamp=node_modules/.dominion-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

npx nx run-many -t build --outputStyle=static
