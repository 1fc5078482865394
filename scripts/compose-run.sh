#!/usr/bin/env bash
# compose-run.sh: runs the part of docker-compose.yml that can run without
# Docker or a container registry, with docker-compose on podman's
# Docker-compatible socket, and the real Filebeat over what it logs:
#
#   1. images built locally: bond-registry:$VERSION (scripts/local-image.sh)
#      and amazon/dynamodb-local:2.6.1 (scripts/podman.sh build-image);
#   2. docker-compose up -d --no-build bond-registry: dynamodb-local
#      (healthy) -> bond-registry-migrate -> bond-registry-seed ->
#      bond-registry, the order and one-shot services of `make init`;
#   3. curl localhost:5000/bonds/FOO must serve the seeded bond FOO;
#   4. requests that end in 2xx, 4xx (one with a W3C traceparent) and, with
#      dynamodb-local stopped, 5xx (503 store unavailable), each with its own
#      X-Request-ID, listed in .cache/compose-run/requests.tsv;
#   5. scripts/filebeat-check.sh over the bond-registry container's log;
#   6. docker-compose down -v, whatever happened.
#
# The Elastic services (elasticsearch, kibana, kibana-setup, filebeat) are
# not started: their images come from docker.elastic.co.
#
# podman without systemd does not schedule health checks (it uses systemd
# timers); while compose waits for dynamodb-local to be healthy, this script
# runs the compose file's own health check with `podman healthcheck run`.
#
# Needs root (podman as root) and ports 5000 and 8000 free on the host.
# Environment: VERSION (image tag, default: the VERSION file), PODMAN_SOCKET.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

PODMAN_SOCKET="${PODMAN_SOCKET:-/run/podman/podman.sock}"
PROJECT=bond-registry-ci
WORK="$CACHE/compose-run"
VERSION="${VERSION:-$(<"$ROOT/VERSION")}"
export VERSION DOCKER_HOST="unix://$PODMAN_SOCKET"
compose() { docker-compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" -p "$PROJECT" "$@"; }

[[ $(id -u) == 0 ]] || die "needs root: podman runs the compose services as root"
for port in 5000 8000; do
	! port_in_use "$port" || die "port $port is in use; docker-compose.yml publishes it"
done
# --no-install-recommends: docker-compose would otherwise pull in the Docker
# engine; podman is the engine here.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose

stop_podman=""
health_pid=""
cleanup() {
	local rc=$?
	if [[ -n $health_pid ]]; then
		kill "$health_pid" 2>/dev/null || true
		wait "$health_pid" 2>/dev/null || true
	fi
	if ((rc != 0)); then
		log "failed; the services' last log lines:"
		compose logs --no-color --tail 20 >&2 || true
	fi
	compose down -v --remove-orphans >/dev/null 2>&1 || log "warning: docker-compose down -v failed"
	podman rmi "bond-registry:$VERSION" >/dev/null 2>&1 || true
	if [[ -n $stop_podman ]]; then
		scripts/podman.sh stop || true
	fi
	exit "$rc"
}
trap cleanup EXIT

if ! scripts/podman.sh status >/dev/null 2>&1; then
	stop_podman=1
	scripts/podman.sh start
fi
rm -rf "$WORK"
mkdir -p "$WORK"

log "building the images locally"
scripts/podman.sh build-image
scripts/local-image.sh "bond-registry:$VERSION" "$WORK/image"

# run_health_checks runs, every second, the health check of each container of
# the project that has one: the job systemd's timers do for podman elsewhere.
run_health_checks() {
	local id
	while sleep 1; do
		for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT"); do
			podman healthcheck run "$id" >/dev/null 2>&1 || true
		done
	done
}
run_health_checks &
health_pid=$!

t0=$SECONDS
log "docker-compose up -d --no-build bond-registry ($(docker-compose version --short) on podman $(podman version -f '{{.Server.Version}}'))"
# Bounded: compose itself waits for health without a limit.
timeout 300 docker-compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" -p "$PROJECT" \
	up -d --no-build bond-registry || die "docker-compose up did not finish within 300 s"
for ((i = 0; i < 150; i++)); do # up to ~30 s after compose returns
	curl -fsS --max-time 2 http://localhost:5000/readyz >/dev/null 2>&1 && break
	sleep 0.2
done
kill "$health_pid" 2>/dev/null || true
wait "$health_pid" 2>/dev/null || true
health_pid=""
compose ps
for svc in bond-registry-migrate bond-registry-seed; do
	code=$(podman inspect -f '{{.State.ExitCode}}' "$svc")
	[[ $code == 0 ]] || die "$svc exited $code"
done
echo "stack up in $((SECONDS - t0))s; migrate and seed exited 0"

foo=$(curl -fsS -H 'accept: application/json' http://localhost:5000/bonds/FOO)
echo "GET localhost:5000/bonds/FOO: $foo"
[[ $foo == *'"host_account_id":"TAPV54703350425479"'* && $foo == *'"jessicadavis"'* ]] ||
	die "the compose service did not serve the seeded bond FOO"

# request EXPECTED METHOD PATH [BODY] [TRACEPARENT]: one request with its own
# X-Request-ID; fails unless the status is EXPECTED; appends a line to
# requests.tsv: id, method, path, status, trace id (or -).
n=0
request() {
	local want=$1 method=$2 path=$3 body=${4:-} traceparent=${5:-} id code trace=-
	n=$((n + 1))
	id="ci-$$-$n"
	local args=(-sS -o /dev/null -w '%{http_code}' -X "$method" -H "X-Request-ID: $id" --max-time 30)
	[[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	if [[ -n $traceparent ]]; then
		args+=(-H "traceparent: $traceparent")
		trace=$(cut -d- -f2 <<<"$traceparent")
	fi
	code=$(curl "${args[@]}" "http://localhost:5000$path")
	echo "$method $path: $code"
	[[ $code == "$want" ]] || die "$method $path answered $code, want $want"
	printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$method" "${path%%\?*}" "$code" "$trace" >>"$WORK/requests.tsv"
}

request 200 GET /bonds/FOO
request 200 GET '/bonds?cost_center_id=olive'
request 200 GET /bonds/FOO/subscribers/jessicadavis '' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
request 404 GET /bonds/NOPE
request 422 POST /bonds '{"bond_id": '
request 404 GET /nowhere
log "stopping dynamodb-local: the store is down"
compose stop -t 5 dynamodb-local
request 503 GET /bonds/FOO

scripts/filebeat-check.sh bond-registry "$WORK/requests.tsv"

log "docker-compose down -v"
compose down -v --remove-orphans
echo "compose run: all passed in $((SECONDS - t0))s"
