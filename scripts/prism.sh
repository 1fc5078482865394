#!/usr/bin/env bash
# prism.sh: install Stoplight's Prism (the npm package @stoplight/prism-cli,
# pinned) into .cache/prism, for the contract proxy test of internal/httpapi
# (TestPrismProxy): Prism runs in proxy mode in front of the service, validates
# every response against api/openapi.yaml, and the test fails on any violation.
#
# Usage: scripts/prism.sh install|path
#
#   install   install the package (skipped when present) and print the path of
#             its binary on stdout (what PRISM takes)
#   path      print the path of the installed binary (exit 3 when none)
#
# The test starts and stops Prism itself (by PID, bounded in time); this
# script only installs it.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGE="@stoplight/prism-cli@5.16.0"
INSTALL_DIR="$CACHE/prism"
BIN="$INSTALL_DIR/node_modules/.bin/prism"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

installed() {
	[[ -x $BIN && -f $INSTALL_DIR/.installed && $(<"$INSTALL_DIR/.installed") == "$PACKAGE" ]]
}

install() {
	if installed; then
		log "$PACKAGE already installed in ${INSTALL_DIR#"$ROOT"/}"
		echo "$BIN"
		return 0
	fi
	need_cmd npm "install Node.js/npm (Debian: apt-get install -y npm) to fetch $PACKAGE"
	mkdir -p "$INSTALL_DIR"
	log "installing $PACKAGE with npm into ${INSTALL_DIR#"$ROOT"/}"
	(cd "$INSTALL_DIR" && npm install --silent --no-audit --no-fund --no-save --prefix "$INSTALL_DIR" "$PACKAGE" >&2) ||
		die "npm install $PACKAGE failed (is the npm registry reachable?)"
	[[ -x $BIN ]] || die "$PACKAGE installed no $BIN"
	echo "$PACKAGE" >"$INSTALL_DIR/.installed"
	echo "$BIN"
}

path() {
	installed || { log "$PACKAGE is not installed: scripts/prism.sh install"; return 3; }
	echo "$BIN"
}

case "${1:-}" in
install) install ;;
path) path ;;
*) usage ;;
esac
