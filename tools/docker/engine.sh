# Sourced by the docker scripts: a Docker engine to talk to. Uses the one DOCKER_HOST (or the default
# socket) points at when it answers; otherwise starts dockerd from apt with its own data root, exec root,
# pidfile and socket under $DOMINION_DOCKER_DIR, and `engine_stop` stops exactly that dockerd again.
# Installs docker.io and docker-compose from apt when they are missing.

engine_started_pid=""

engine_install() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  if [ ${#need[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "docker: installing ${need[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

engine_start() {
  if docker version >/dev/null 2>&1; then
    echo "docker: using the running engine ($(docker version -f '{{.Server.Version}}'))"
    return 0
  fi
  local dir=${DOMINION_DOCKER_DIR:-/tmp/dominion-docker}
  mkdir -p "$dir"
  if DOCKER_HOST="unix://$dir/docker.sock" docker version >/dev/null 2>&1; then
    export DOCKER_HOST="unix://$dir/docker.sock"
    echo "docker: using the dockerd already running on $DOCKER_HOST (left running)"
    return 0
  fi
  [ "$(id -u)" = 0 ] || { echo "docker: no engine answers and starting dockerd needs root" >&2; return 1; }
  dockerd --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" >"$dir/dockerd.log" 2>&1 &
  engine_started_pid=$!
  export DOCKER_HOST="unix://$dir/docker.sock"
  local i
  for i in $(seq 1 100); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$engine_started_pid" 2>/dev/null || { tail -20 "$dir/dockerd.log" >&2; return 1; }
    sleep 0.2
  done
  docker version >/dev/null 2>&1 || { echo "docker: dockerd did not answer within 20 s ($dir/dockerd.log)" >&2; return 1; }
  echo "docker: started dockerd $(docker version -f '{{.Server.Version}}') (pid $engine_started_pid, $DOCKER_HOST)"
}

# Stops the dockerd engine_start started (never another one); containerd exits with it.
engine_stop() {
  [ -n "$engine_started_pid" ] || return 0
  kill "$engine_started_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do kill -0 "$engine_started_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$engine_started_pid" 2>/dev/null && kill -9 "$engine_started_pid" 2>/dev/null
  engine_started_pid=""
  # dockerd's bridge outlives it; remove it unless another dockerd runs (and owns it).
  if ip link show docker0 >/dev/null 2>&1 && ! pidof dockerd >/dev/null; then ip link del docker0 2>/dev/null || true; fi
}
