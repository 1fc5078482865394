#!/usr/bin/env bash
# filebeat-check.sh: runs the real Filebeat (scripts/filebeat.sh) with the
# repository's elk/filebeat/filebeat.yml over a running container's log, as
# the container engine (podman) wrote it, and checks what Filebeat emits.
#
# Usage: scripts/filebeat-check.sh CONTAINER REQUESTS
#
#   CONTAINER  the service's container (named bond-registry, as in compose)
#   REQUESTS   a TSV file of the requests it served: X-Request-ID, method,
#              path, status, W3C trace id or - (scripts/compose-run.sh)
#
#   1. `filebeat test config` on elk/filebeat/filebeat.yml as it is;
#   2. `filebeat export template`: the index template Filebeat would install,
#      with the Elasticsearch type of every field;
#   3. Filebeat runs with the file and only these overrides: the output
#      goes to a file (Elasticsearch cannot run here), the input path is the
#      container's podman log file, and add_docker_metadata asks podman's
#      Docker-compatible socket, finding the container id at podman's place
#      in that path (match_source_index); it stops once every request's
#      event is out;
#   4. go test -tags filebeatcheck ./internal/stackcheck: each request's
#      event carries every column of the Kibana saved search, with a value of
#      the template's type, equal to what was sent and answered.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

(($# == 2)) || die "usage: scripts/filebeat-check.sh CONTAINER REQUESTS"
CTR=$1
REQUESTS=$(realpath "$2")
PODMAN_SOCKET="${PODMAN_SOCKET:-/run/podman/podman.sock}"
WORK="$CACHE/filebeat-check"
CONFIG="$ROOT/elk/filebeat/filebeat.yml"
[[ -s $REQUESTS ]] || die "no requests in $REQUESTS"

FB=$(scripts/filebeat.sh install)
rm -rf "$WORK"
mkdir -p "$WORK/out"
# --path.*: Filebeat's working directories (registry, its own logs), not
# configuration. --strict.perms=false as in docker-compose.yml.
paths=(--strict.perms=false --path.home "$WORK" --path.data "$WORK/data" --path.logs "$WORK/logs")

echo "== filebeat test config ($("$FB" version | cut -d' ' -f1-3))"
"$FB" test config "${paths[@]}" -c "$CONFIG"

output=(-E output.elasticsearch.enabled=false -E "output.file.path=$WORK/out" -E output.file.filename=filebeat)
"$FB" export template "${paths[@]}" -c "$CONFIG" "${output[@]}" >"$WORK/template.json"

id=$(podman inspect -f '{{.Id}}' "$CTR")
logpath=$(podman inspect -f '{{.HostConfig.LogConfig.Path}}' "$CTR")
[[ -s $logpath ]] || die "no log file for $CTR at '$logpath'"
# add_docker_metadata's match_source_index counts the path's non-empty parts.
IFS=/ read -ra parts <<<"${logpath#/}"
index=""
for i in "${!parts[@]}"; do
	[[ ${parts[i]} == "$id" ]] && index=$i
done
[[ -n $index ]] || die "the container id is not in its log path $logpath"
echo "== filebeat over $logpath ($(wc -l <"$logpath") lines, $(head -c 40 "$logpath")...)"

"$FB" run -e "${paths[@]}" -c "$CONFIG" "${output[@]}" \
	-E "filebeat.inputs.0.paths=[\"$logpath\"]" \
	-E "processors.0.add_docker_metadata.host=unix://$PODMAN_SOCKET" \
	-E "processors.0.add_docker_metadata.match_source_index=$index" \
	>"$WORK/filebeat.log" 2>&1 &
pid=$!
stop_filebeat() {
	if kill -TERM "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
}
trap stop_filebeat EXIT

# all_out succeeds when every request id is in Filebeat's output.
all_out() {
	local rid
	while IFS=$'\t' read -r rid _; do
		grep -qsF "\"$rid\"" "$WORK"/out/filebeat* || return 1
	done <"$REQUESTS"
}
for ((i = 0; i < 300; i++)); do # up to ~60 s
	all_out && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
if ! all_out; then
	tail -n 30 "$WORK/filebeat.log" >&2
	die "Filebeat did not emit an event for every request"
fi
stop_filebeat
trap - EXIT
echo "Filebeat emitted $(cat "$WORK"/out/filebeat* | wc -l) events"

echo "== go test -tags filebeatcheck ./internal/stackcheck"
FILEBEAT_EVENTS="$WORK/out" FILEBEAT_TEMPLATE="$WORK/template.json" FILEBEAT_REQUESTS="$REQUESTS" \
	go test -tags filebeatcheck -count=1 -run 'TestFilebeatOutput' ./internal/stackcheck/
