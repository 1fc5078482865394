#!/usr/bin/env bash
# test.sh: the project's whole test run (`make test`). It installs and starts
# what the tests need, runs them, and stops what it started, by PID.
#
#   1. DynamoDB Local from the npm jar, unless DYNAMODB_TEST_ENDPOINT is set;
#   2. a Docker-compatible engine for testcontainers: the one DOCKER_HOST names,
#      else podman (as root; it builds the DynamoDB Local image locally);
#   3. go test -race over every package;
#
# With CI=true nothing may be missing: a test that cannot get its dependency
# fails instead of skipping.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=()
cleanup() {
	local s
	for s in "${started[@]}"; do
		scripts/"$s" stop || echo "test.sh: could not stop $s" >&2
	done
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
t0=$SECONDS

step "DynamoDB Local (endpoint provider)"
if [[ -z ${DYNAMODB_TEST_ENDPOINT:-} ]]; then
	started+=(dynamodb-local.sh)
	scripts/dynamodb-local.sh start
	DYNAMODB_TEST_ENDPOINT=$(scripts/dynamodb-local.sh endpoint)
	export DYNAMODB_TEST_ENDPOINT
fi
echo "DYNAMODB_TEST_ENDPOINT=$DYNAMODB_TEST_ENDPOINT"

step "Container engine (testcontainers provider)"
if [[ -n ${DOCKER_HOST:-} ]] || { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
	echo "using the engine at ${DOCKER_HOST:-the default Docker socket}"
elif [[ $(id -u) == 0 ]]; then
	started+=(podman.sh)
	scripts/podman.sh start
	scripts/podman.sh build-image
	eval "$(scripts/podman.sh env)"
elif [[ ${CI:-} == true ]]; then
	echo "test.sh: no Docker-compatible engine and not root: cannot run the testcontainers tests in CI" >&2
	exit 1
else
	echo "no Docker-compatible engine: the testcontainers tests will skip (one line each)"
fi

step "go test -race ./..."
go test -race -count=1 -timeout 30m ./...

step "done in $((SECONDS - t0))s"
