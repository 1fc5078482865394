#!/usr/bin/env bash
# browser-check.sh URL OUTDIR: the real-browser check of the /docs page.
#
# Opens URL/docs/ in headless Chromium (Debian's package, installed when
# missing and running as root) on a server that is already running, and
# checks that the page rendered the API: Swagger UI shows every operation of
# URL/openapi.json, among them GET /bonds/{bond_id}, and no "Failed to load"
# error. It writes to OUTDIR:
#
#   docs.png      a 1280x2000 screenshot of the page, for people to look at
#   docs.html     the rendered DOM
#   netlog*.json  Chromium's network logs of both runs
#
# Only 127.0.0.1 is reachable: every other host name resolves to nothing and
# every other connection goes to a dead proxy. Any request to another host
# that appears in the network logs fails the check, so the page is proven to
# work offline. URL must be on 127.0.0.1 or localhost.
#
# Example: scripts/browser-check.sh http://127.0.0.1:8080 build/browser
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || die "usage: $(basename "$0") URL OUTDIR (e.g. http://127.0.0.1:8080 build/browser)"
base=${1%/}
outdir=$2
[[ $base =~ ^http://(127\.0\.0\.1|localhost)(:[0-9]+)?$ ]] ||
	die "URL must be http://127.0.0.1[:PORT] or http://localhost[:PORT], got '$1'"

# The browser: Debian's chromium (never a test tool's download).
browser=${CHROMIUM:-}
if [[ -z $browser ]]; then
	if ! command -v chromium >/dev/null 2>&1; then
		[[ $(id -u) == 0 ]] || die "chromium is not installed: run as root, or apt-get install -y chromium"
		log "installing Debian's chromium"
		apt-get install -y chromium >&2 || { apt-get update >&2 && apt-get install -y chromium >&2; }
	fi
	browser=chromium
fi
need_cmd "$browser" "apt-get install -y chromium"
need_cmd curl "apt-get install -y curl"

mkdir -p "$outdir"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# The document the page must show: every operation of it must be on the page.
spec=$(curl -fsS --max-time 10 "$base/openapi.json") || die "cannot fetch $base/openapi.json: is the server running?"
mapfile -t operation_ids < <(grep -oE '"operationId": *"[^"]+"' <<<"$spec" | sed -E 's/.*"([^"]+)"$/\1/')
((${#operation_ids[@]} > 0)) || die "$base/openapi.json has no operations"

# run_chromium NETLOG ARGS...: headless Chromium that can reach 127.0.0.1 only.
run_chromium() {
	local netlog=$1
	shift
	"$browser" \
		--headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --disable-default-apps --no-default-browser-check \
		--disable-features=AutofillServerCommunication,NetworkTimeServiceQuerying,MediaRouter,OptimizationHints \
		--user-data-dir="$profile" \
		--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost" \
		--proxy-server="http://127.0.0.1:9" --proxy-bypass-list="127.0.0.1;localhost" \
		--log-net-log="$netlog" \
		--window-size=1280,2000 --hide-scrollbars \
		--virtual-time-budget=15000 \
		"$@" "$base/docs/" 2>>"$outdir/chromium.log"
}

: >"$outdir/chromium.log"
log "rendering $base/docs/ in $("$browser" --version 2>/dev/null || echo "$browser")"
run_chromium "$outdir/netlog-dom.json" --dump-dom >"$outdir/docs.html" ||
	die "chromium failed (see $outdir/chromium.log)"
run_chromium "$outdir/netlog-screenshot.json" --screenshot="$outdir/docs.png" >/dev/null ||
	die "chromium failed to take the screenshot (see $outdir/chromium.log)"

failed=0
fail() {
	log "FAIL: $*"
	failed=1
}

# 1. The page rendered the document: Swagger UI gives each operation the id
# operations-TAG-OPERATIONID.
dom=$(<"$outdir/docs.html")
for id in "${operation_ids[@]}"; do
	grep -Eq "id=\"operations-[^\"]+-$id\"" <<<"$dom" || fail "operation $id is not on the page"
done
got_ops=$({ grep -oE 'class="opblock opblock-(get|post|put|delete)' <<<"$dom" || true; } | wc -l)
[[ $got_ops -eq ${#operation_ids[@]} ]] ||
	fail "the page shows $got_ops operations, the document has ${#operation_ids[@]}"
grep -q 'data-path="/bonds/{bond_id}"' <<<"$dom" || fail "no /bonds/{bond_id} operation on the page"
grep -Eq 'opblock-summary-method">GET<' <<<"$dom" || fail "no GET operation on the page"
grep -q 'Bond Registry API' <<<"$dom" || fail "the document's title is not on the page"
# The document declares its security schemes: Swagger UI shows Authorize.
grep -q 'class="btn authorize' <<<"$dom" || fail "no Authorize button: are the securitySchemes declared?"
if grep -qi 'Failed to load' <<<"$dom"; then
	fail "Swagger UI says it failed to load the document"
fi

# 2. The page requested nothing from another host. In the network log, each
# request's start names its initiator: the page's origin for everything the
# page loads (scripts, styles, fonts, fetches, frames), "not an origin" for
# navigations and Chromium's own background requests. The latter cannot
# reach anything either (see run_chromium) and are only counted.
starts=$({ grep -hE '"initiator":"[^"]*".*"url":"[^"]*"' "$outdir"/netlog-*.json || true; } |
	sed -E 's/.*"initiator":"([^"]*)".*"url":"([^"]*)".*/\1 \2/' | sort -u)
page_urls=$(awk -v o="$base" '$1 == o {print $2}' <<<"$starts")
[[ -n $page_urls ]] || fail "the network logs list no request made by the page"
external=$(grep -vF "$base/" <<<"$page_urls" || true)
[[ -z $external ]] || fail "the page requested other hosts: $(tr '\n' ' ' <<<"$external")"
grep -qxF "$base/openapi.json" <<<"$page_urls" || fail "the page did not request /openapi.json"
browser_own=$(awk -v o="$base" '$1 != o && index($2, o "/") != 1 {n++} END {print n + 0}' <<<"$starts")

# 3. The screenshot exists.
[[ -s $outdir/docs.png ]] || fail "no screenshot written"

if ((failed)); then
	die "browser check failed; see $outdir/docs.html, $outdir/chromium.log"
fi
log "OK: all $got_ops operations rendered; the page made $(wc -l <<<"$page_urls") requests, all to $base" \
	"(Chromium's own background requests, all blocked: $browser_own); screenshot $outdir/docs.png"
