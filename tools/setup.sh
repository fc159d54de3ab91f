#!/usr/bin/env bash
# Installs what is missing and builds everything. Idempotent; used by `npm start` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true

# System packages the services and tests use: nats-server (the bus), xenstore-utils (stock clients
# that judge our xenstored), and the block/net tools below.
need=()
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null || need+=(nats-server)
command -v xenstore-ls >/dev/null || need+=(xenstore-utils)
# Stock block-device clients that judge the NBD export and the peers benchmarks compare against.
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v nbdinfo >/dev/null || need+=(libnbd-bin)
command -v nbdkit >/dev/null || need+=(nbdkit)
command -v fio >/dev/null || need+=(fio)
# Uplinks of the net driver domain (TAP <-> UDP) and ping from network namespaces.
command -v socat >/dev/null || need+=(socat)
command -v ping >/dev/null || need+=(iputils-ping)
# A userspace 9P2000.L client (diodcat/diodls/diodload) that judges our 9P server.
command -v diodcat >/dev/null || [ -x /usr/sbin/diodcat ] || need+=(diod)
# The stock lz4 tool checks that the ZFS engine's lz4 blocks are real LZ4.
command -v lz4 >/dev/null || need+=(lz4)
# Validates docker/compose.yaml in the ordinary test run (the Docker test proper is npm run test:docker).
command -v docker-compose >/dev/null || need+=(docker-compose)
# HVM guests: a real QEMU booting Debian's kernel with a busybox initramfs (tools/hvm/build-initramfs.sh).
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v busybox >/dev/null || [ -x /bin/busybox ] || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
command -v ip >/dev/null || need+=(iproute2)
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
