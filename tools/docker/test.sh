#!/usr/bin/env bash
# `npm run test:docker`: proves the container side with a real Docker engine, all traffic on loopback.
#  1. docker.io and docker-compose from apt when missing; dockerd started here when none answers (own data
#     root, exec root, pidfile and socket under DOMINION_DOCKER_DIR, default /tmp/dominion-docker; stopped at
#     the end; the data root stays, so the next run reuses its build cache)
#  2. base images from this machine (no registry: tools/docker/base-image.sh), then the nats, hypervisor and
#     dom0 images, built with --network none (npm works offline from the machine's npm cache)
#  3. compose up with host networking on 127.0.0.1 and free ports (docker/compose.host.yaml) and the demo
#     profile; waits for every healthcheck (each a real operation: /healthz, a hypercall, a XenStore read)
#  4. the demo guests exist; `xl create` and `xl list` inside dom0; a XenStore key written through
#     xenstored's socket; down, up, and the key and dom0's state are still there
#  5. everything torn down (containers, network, volumes); timings and image sizes printed as markdown
# Exits non-zero on the first failure. DOMINION_DOCKER_OFFICIAL_BASE=1 builds FROM the official node image
# instead (needs a registry); DOMINION_DOCKER_SOURCE=head builds the last commit (see below).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
# shellcheck source=tools/docker/engine.sh
source tools/docker/engine.sh

t0=$(date +%s.%N)
since() { node -p "(($(date +%s.%N)) - ($1)).toFixed(1)"; }
say() { printf 'test:docker: %s\n' "$*"; }
die() {
  say "FAILED: $*" >&2
  exit 1
}

project=dominion-test-$$
tag=test
compose=(docker-compose -p "$project" -f docker/compose.yaml -f docker/compose.host.yaml --profile demo)
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
export DOMINION_TAG=$tag DOMINION_NATS_PORT=$(free_port) DOMINION_NATS_MONITOR_PORT=$(free_port)

cleanup() {
  local rc=$? tc
  tc=$(date +%s.%N)
  set +e
  if [ -n "${up_once:-}" ]; then
    [ "$rc" = 0 ] || { say "logs of the failed run:"; "${compose[@]}" logs --no-color --tail=40 2>&1 | tail -120; }
    "${compose[@]}" down -v --remove-orphans -t 5 >/dev/null 2>&1
  fi
  # On this test's own engine, drop the images earlier builds left untagged (the build cache of the current
  # images stays); another engine's images are not ours to prune.
  [ "${DOCKER_HOST:-}" = "unix://${DOMINION_DOCKER_DIR:-/tmp/dominion-docker}/docker.sock" ] && docker image prune -f >/dev/null
  engine_stop
  say "cleaned up in $(since "$tc") s"
  exit "$rc"
}
trap cleanup EXIT

engine_install
engine_start

# The compose files, as the ordinary test run checks them.
bash tools/docker/validate.sh >/dev/null || die "compose files do not validate (tools/docker/validate.sh)"

t=$(date +%s.%N)
build_args=()
net=(--network none)
if [ "${DOMINION_DOCKER_OFFICIAL_BASE:-0}" = 1 ]; then
  net=()
else
  bash tools/docker/base-image.sh dominion/node:local dominion/node-build:local
  build_args=(--build-arg BASE_IMAGE=dominion/node:local --build-arg BUILD_IMAGE=dominion/node-build:local)
fi
t_base=$(since "$t")
t=$(date +%s.%N)
# One snapshot of the sources for the three builds, so that edits made meanwhile cannot mix into them: the
# files git tracks or would track (node_modules, dist, var are ignored), then .dockerignore applies.
# DOMINION_DOCKER_SOURCE=head builds the last commit instead, with the working copy's docker files on top
# (for a tree that others are editing, whose package-lock.json may be out of step for a while).
ctx=$(mktemp -d)
if [ "${DOMINION_DOCKER_SOURCE:-worktree}" = head ]; then
  mkdir "$ctx/src"
  git archive HEAD | tar -x -C "$ctx/src"
  tar -c .dockerignore docker | tar -x -C "$ctx/src"
  tar -C "$ctx/src" -cf "$ctx/context.tar" .
else
  git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf "$ctx/context.tar" 2>/dev/null
fi
for target in nats hypervisor dom0; do
  docker build -q "${net[@]}" -f docker/Dockerfile "${build_args[@]}" --target "$target" -t "dominion/$target:$tag" - \
    <"$ctx/context.tar" >/dev/null 2>"$ctx/$target.log" || { cat "$ctx/$target.log" >&2; die "docker build --target $target"; }
done
rm -rf "$ctx"
t_build=$(since "$t")
# Production images: no dev dependencies, an unprivileged user.
for target in hypervisor dom0; do
  docker run --rm --network none --entrypoint sh "dominion/$target:$tag" -c \
    'for p in typescript nx jest @swc/core eslint; do [ ! -e "node_modules/$p" ] || { echo "dev dependency $p"; exit 1; }; done; [ "$(id -u)" != 0 ]' ||
    die "dominion/$target:$tag holds dev dependencies or runs as root"
done
say "images built in ${t_build} s (base images ${t_base} s)"

health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null; }
# Waits until nats, the hypervisor and dom0 report healthy (bounded), and prints the seconds since $1.
# Containers are looked up once (docker-compose itself takes half a second a call), then polled by id.
wait_healthy() {
  local start=$1 ids id st ok i
  ids=$("${compose[@]}" ps -q nats hypervisor dom0)
  [ "$(wc -w <<<"$ids")" = 3 ] || die "compose did not create nats, hypervisor and dom0"
  for i in $(seq 1 600); do
    ok=1
    for id in $ids; do
      st=$(health "$id")
      [ "$st" = unhealthy ] && die "$(docker inspect -f '{{.Name}}' "$id") is unhealthy"
      [ "$(docker inspect -f '{{.RestartCount}}' "$id")" = 0 ] || die "$(docker inspect -f '{{.Name}}' "$id") exited and was restarted"
      [ "$st" = healthy ] || ok=0
    done
    [ "$ok" = 1 ] && { since "$start"; return 0; }
    sleep 0.1
  done
  die "the stack was not healthy within 60 s"
}
dom0() { "${compose[@]}" exec -T dom0 "$@"; }

t=$(date +%s.%N)
up_once=1
"${compose[@]}" up -d --no-build 2>&1 | sed 's/^/  /' || die "docker-compose up failed"
t_healthy=$(wait_healthy "$t")
say "up to healthy: ${t_healthy} s"

# The demo profile's one-shot created the guests of examples/*.cfg through dom0's toolstack.
demo=$("${compose[@]}" ps -q demo)
[ -n "$demo" ] || die "the demo service did not start"
[ "$(timeout 60 docker wait "$demo")" = 0 ] || die "the demo service failed: $(docker logs "$demo" 2>&1 | tail -5)"
list=$(dom0 xl list)
echo "$list" | sed 's/^/  /'
for n in Domain-0 minios-1 minios-2; do grep -q "^$n " <<<"$list" || die "xl list inside dom0 has no $n"; done

dom0 xl create examples/minios.cfg "name='docker-test'" | sed 's/^/  /'
dom0 xl list | grep -q '^docker-test ' || die "xl list does not show the guest xl create made"
# Written through xenstored's xs_wire socket, as xenstore-write would; it must survive down/up.
nonce="docker-test-$$-$(date +%s)"
dom0 node docker/probe.mjs xs-write /tool/dominion-docker-test "$nonce"
[ "$(dom0 node docker/probe.mjs xs-read /tool/dominion-docker-test)" = "$nonce" ] || die "XenStore read-back differs"

# The bus identity lives in a volume too: the operator must be the same one after down/up.
operator() { "${compose[@]}" exec -T nats sh -c 'grep "^operator:" /var/lib/dominion/nats/nats-server.conf'; }
operator_before=$(operator)
[ -n "$operator_before" ] || die "nats-server.conf names no operator"

t=$(date +%s.%N)
"${compose[@]}" down -t 10 2>&1 | sed 's/^/  /' || die "docker-compose down failed"
t_down=$(since "$t")
say "down in ${t_down} s"
t=$(date +%s.%N)
"${compose[@]}" up -d --no-build 2>&1 | sed 's/^/  /' || die "docker-compose up failed"
t_rehealthy=$(wait_healthy "$t")
say "up again to healthy: ${t_rehealthy} s"
got=$(dom0 node docker/probe.mjs xs-read /tool/dominion-docker-test) || die "the XenStore key is gone after down/up"
[ "$got" = "$nonce" ] || die "after down/up the XenStore key holds '$got', not '$nonce'"
say "XenStore kept /tool/dominion-docker-test across down/up"
[ "$(operator)" = "$operator_before" ] || die "the bus identity (operator) changed across down/up"
say "the bus identity (operator JWT) is the same after down/up"
dom0 xl list | grep -q '^Domain-0 ' || die "xl list fails after down/up"

size() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.0f", $1 / 1000000 }'; }
echo
echo "Docker (\`npm run test:docker\`, $(date -u +%Y-%m-%d), $(nproc) cores, dockerd $(docker version -f '{{.Server.Version}}'), docker-compose $(docker-compose version --short))"
echo
echo "| what | value |"
echo "| --- | --- |"
echo "| image dominion/nats | $(size "dominion/nats:$tag") MB |"
echo "| image dominion/hypervisor | $(size "dominion/hypervisor:$tag") MB |"
echo "| image dominion/dom0 | $(size "dominion/dom0:$tag") MB |"
echo "| base images from this machine | ${t_base} s |"
echo "| build of the three images | ${t_build} s |"
echo "| \`up\` to healthy (first start, identity generated) | ${t_healthy} s |"
echo "| \`down\` | ${t_down} s |"
echo "| \`up\` to healthy (restart, state kept) | ${t_rehealthy} s |"
echo "| whole test | $(since "$t0") s |"
echo
say "passed"
