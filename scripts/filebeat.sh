#!/usr/bin/env bash
# filebeat.sh: the real Filebeat, built from Elastic's public Go source
# (github.com/elastic/beats/v7 at an exact release tag, fetched through the
# Go module proxy and checked against sum.golang.org), for CI machines where
# no container registry or Elastic download is reachable.
#
# Usage: scripts/filebeat.sh install|path|version
#
#   install  build Filebeat when the cache has no binary of this version,
#            then print the binary's path (stdout); log lines go to stderr
#   path     print where the binary is (or would be) cached
#   version  print the Filebeat version this script builds
#
# Environment:
#   FILEBEAT_VERSION  a release tag of github.com/elastic/beats/v7
#                     (default v7.17.29, see below)
#   FILEBEAT_CACHE    cache directory, one subdirectory a version
#                     (default ${XDG_CACHE_HOME:-$HOME/.cache}/bond-registry/filebeat)
#
# Why v7.17.29: the Go module proxy serves Beats only as the module
# github.com/elastic/beats/v7, and Go's semantic import versioning allows
# only v7.x.y tags for that path; the 8.x tags (.env's ELK_VERSION 8.19.x,
# the Filebeat of docker-compose.yml) are not module versions (the proxy
# answers 403). 7.17 is the last 7.x line, still patched by Elastic; v7.17.29
# is the patch release the proxy serves here. Its filestream input, container
# parser and processors are those elk/filebeat/filebeat.yml uses, and its
# `filebeat test config` accepts the file.
#
# The cache lives outside the repository, so a fresh clone on the same machine
# reuses it; the build (about 3 minutes on 2 cores) is paid once a machine and
# version. Nothing of Filebeat is committed to this repository.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${FILEBEAT_VERSION:-v7.17.29}"
DIR="${FILEBEAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bond-registry/filebeat}/$VERSION"
BIN="$DIR/filebeat"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

install() {
	if [[ -x $BIN ]] && "$BIN" version >/dev/null 2>&1; then
		log "Filebeat $VERSION cached at $BIN"
		echo "$BIN"
		return 0
	fi
	need_cmd go "install Go (https://go.dev/dl/)"
	mkdir -p "$DIR"
	local src t0=$SECONDS
	log "downloading github.com/elastic/beats/v7@$VERSION through the Go module proxy"
	# Outside any module, so that this repository's go.mod is not involved.
	src=$(cd "$DIR" && go mod download -json "github.com/elastic/beats/v7@$VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $src && -d $src ]] || die "go mod download github.com/elastic/beats/v7@$VERSION gave no source directory"
	log "downloading its dependencies"
	(cd "$src" && go mod download) >&2
	log "building filebeat (CGO_ENABLED=0; log: $DIR/build.log)"
	if ! (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$BIN.tmp" ./filebeat) >"$DIR/build.log" 2>&1; then
		tail -n 30 "$DIR/build.log" >&2
		die "go build ./filebeat failed in $src"
	fi
	mv -f "$BIN.tmp" "$BIN"
	log "built $("$BIN" version) in $((SECONDS - t0))s: $BIN"
	echo "$BIN"
}

case "${1:-}" in
install) install ;;
path) echo "$BIN" ;;
version) echo "$VERSION" ;;
*) usage ;;
esac
