#!/usr/bin/env bash
# Builds the images the Dockerfile starts FROM out of what this machine already has, for hosts that cannot
# pull from a registry (ours cannot). Two images, both `docker import`s of a root filesystem assembled here:
#   dominion/node:local        the runtime base (BASE_IMAGE): node, the libraries it links, busybox as /bin/sh
#   dominion/node-build:local  the build base (BUILD_IMAGE): the above plus npm, this machine's npm cache
#                              (npm_config_offline=true, so `npm ci` never reaches the registry) and the
#                              Debian nats-server binary (the nats target copies it from the build stage)
# Usage: tools/docker/base-image.sh [runtime-tag] [build-tag]   (DOCKER_HOST is honoured)
set -euo pipefail
runtime_tag=${1:-dominion/node:local}
build_tag=${2:-dominion/node-build:local}
node_bin=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
npm_cache=$(npm config get cache)
for f in "$node_bin" /usr/bin/busybox "$nats_bin" "$npm_dir/bin/npm-cli.js" "$npm_cache/_cacache"; do
  [ -e "$f" ] || { echo "base-image: $f is missing on this machine" >&2; exit 1; }
done

# Rebuilt only when what goes in changed: an import is a new image, and a new base would throw away every
# cached layer built on the old one.
fingerprint=$(printf '%s\n' "$(node -v)" "$(npm -v)" "$("$nats_bin" --version)" "$(sha256sum <"$(dirname "$0")/../../package-lock.json")" \
  "$(sha256sum <"$0")" | sha256sum | cut -c1-16)
have() { [ "$(docker image inspect -f '{{index .Config.Labels "dominion.base"}}' "$1" 2>/dev/null)" = "$fingerprint" ]; }
if have "$runtime_tag" && have "$build_tag"; then
  echo "base-image: $runtime_tag and $build_tag are up to date ($fingerprint)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,root,home/node,usr/bin,usr/local/bin,usr/sbin}
chmod 1777 "$root/tmp"
cp /usr/bin/busybox "$root/bin/busybox"
# busybox --list names busybox itself: linking it would replace the binary with a symlink loop.
for a in $(/usr/bin/busybox --list | grep -vx busybox); do ln -sf busybox "$root/bin/$a"; done
ln -s /bin/env "$root/usr/bin/env" # shebangs (`#!/usr/bin/env node`)
# glibc's ldd script: native modules (nx's) read it to tell glibc from musl, and busybox has none.
cp /usr/bin/ldd "$root/usr/bin/ldd"
cp "$node_bin" "$root/usr/local/bin/node"
# The dynamic loader and every library node links, at the paths ldd resolved them to, and the rest of
# glibc's small libraries that native modules link (nx's links libutil) or that name lookups load.
libs=$(ldd "$node_bin" | grep -o '/[^ ]*')
for l in libutil.so.1 librt.so.1 libresolv.so.2 libnss_files.so.2 libnss_dns.so.2; do
  libs+=" $(dirname "$(ldd "$node_bin" | grep -o '/[^ ]*libc.so.6')")/$l"
done
for lib in $libs; do
  [ -e "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
PW
printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"

# The official node image's environment, so that the Dockerfile works the same on both.
runtime_opts=(-c "LABEL dominion.base=$fingerprint" -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin' -c 'ENV NODE_VERSION='"$(node -p process.versions.node)" -c 'CMD ["node"]')
t0=$(date +%s.%N)
tar -C "$root" -c . | docker import "${runtime_opts[@]}" - "$runtime_tag" >/dev/null

mkdir -p "$root/usr/local/lib/node_modules" "$root/root/.npm"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp -a "$npm_cache/_cacache" "$root/root/.npm/_cacache"
cp "$nats_bin" "$root/usr/sbin/nats-server"
tar -C "$root" -c . | docker import "${runtime_opts[@]}" -c 'ENV npm_config_offline=true' -c 'ENV npm_config_cache=/root/.npm' \
  - "$build_tag" >/dev/null
echo "base-image: $runtime_tag and $build_tag from this machine ($(node -p "($(date +%s.%N)-$t0).toFixed(1)") s)"
