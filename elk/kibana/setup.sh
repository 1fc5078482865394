#!/usr/bin/env bash
# setup.sh: creates the Kibana objects of the local stack, idempotently:
#   - the data view "filebeat-*" (id filebeat, time field @timestamp,
#     event.duration shown in milliseconds), from data-view.json;
#   - the saved search "Bond Registry logs" (id bond-registry-logs), the
#     bond-registry container's lines with the ECS columns log.level,
#     message, http.request.method, http.route, url.path,
#     http.response.status_code, http.response.body.bytes, event.duration,
#     http.request.id, trace.id, newest first, from saved-search.json.
# It first waits for Kibana's /api/status to say "available", with bounded
# retries. Runs from the host (make init) or as the kibana-setup service.
#
# Environment:
#   KIBANA_URL      Kibana base URL (default http://localhost:5601)
#   KIBANA_TRIES    status polls before giving up (default 60)
#   KIBANA_WAIT     seconds between polls (default 5)
#   KIBANA_PUBLIC_URL  URL printed for people (default http://localhost:5601)
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIBANA_URL="${KIBANA_URL:-http://localhost:5601}"
KIBANA_TRIES="${KIBANA_TRIES:-60}"
KIBANA_WAIT="${KIBANA_WAIT:-5}"
KIBANA_PUBLIC_URL="${KIBANA_PUBLIC_URL:-http://localhost:5601}"
SEARCH_ID=bond-registry-logs

log() { printf 'kibana-setup: %s\n' "$*" >&2; }

wait_for_kibana() {
	local i status
	for ((i = 1; i <= KIBANA_TRIES; i++)); do
		status=$(curl -sS --max-time 10 "$KIBANA_URL/api/status" 2>/dev/null || true)
		if [[ $status == *'"level":"available"'* ]]; then
			log "Kibana is available (try $i)"
			return 0
		fi
		log "waiting for Kibana at $KIBANA_URL ($i/$KIBANA_TRIES)"
		sleep "$KIBANA_WAIT"
	done
	log "error: Kibana did not become available after $KIBANA_TRIES tries"
	return 1
}

# post PATH FILE: POSTs the JSON in FILE, fails with Kibana's answer on a
# non-2xx status.
post() {
	local path=$1 file=$2 out code
	out=$(mktemp)
	code=$(curl -sS --max-time 30 -o "$out" -w '%{http_code}' -X POST "$KIBANA_URL$path" \
		-H 'kbn-xsrf: bond-registry' -H 'Content-Type: application/json' \
		--data-binary "@$file")
	if [[ $code != 2* ]]; then
		log "error: POST $path answered $code: $(cat "$out")"
		rm -f "$out"
		return 1
	fi
	rm -f "$out"
}

wait_for_kibana
# "override": true in data-view.json replaces an existing data view.
post /api/data_views/data_view "$DIR/data-view.json"
log "data view filebeat-* ready"
post "/api/saved_objects/search/$SEARCH_ID?overwrite=true" "$DIR/saved-search.json"
log "saved search \"Bond Registry logs\" ready"
echo "$KIBANA_PUBLIC_URL/app/discover#/view/$SEARCH_ID"
