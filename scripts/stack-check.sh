#!/usr/bin/env bash
# stack-check.sh: CI checks of the local stack that need no Docker engine.
#
#   1. docker-compose.yml parses (Debian's docker-compose `config -q`,
#      installed with apt when missing and running as root);
#   2. shellcheck on every tracked *.sh;
#   3. go test ./internal/stackcheck: every YAML file parses, the compose
#      file references only existing files and keeps the README's names and
#      start order.
#
# Running the stack and the real Filebeat is scripts/compose-run.sh's job.
#
# With CI=true a missing tool that cannot be installed is an error.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

step() { printf '\n== %s\n' "$*"; }

# ensure CMD PACKAGE: installs the Debian package when CMD is missing (root),
# or fails.
ensure() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 && return 0
	[[ $(id -u) -eq 0 ]] || die "'$cmd' not found; install the Debian package $pkg"
	log "installing $pkg"
	# --no-install-recommends: docker-compose would otherwise pull in the
	# Docker engine (docker.io, containerd), which this check does not need.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
		{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; } ||
		die "could not install $pkg"
}

step "docker-compose config -q"
ensure docker-compose docker-compose
docker-compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" config -q
echo "docker-compose.yml: ok ($(docker-compose version --short))"

step "shellcheck"
ensure shellcheck shellcheck
mapfile -t scripts < <(git ls-files '*.sh')
((${#scripts[@]} > 0)) || die "no shell scripts found"
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts ok"

step "go test ./internal/stackcheck"
go test -count=1 ./internal/stackcheck/
