#!/usr/bin/env bash
# image-check.sh: proves that the container image's contents work, without
# a Docker engine or a registry. scripts/local-image.sh builds the image (the
# static binary, built exactly as the Dockerfile does, alone in an empty root
# filesystem with the distroless nonroot user 65532); this script runs it as
# user 65532 on the host network (loopback only): /healthz must answer 200 and
# `bond-registry healthcheck` (the image's HEALTHCHECK) must exit 0.
# It also checks the binary size against the 25 MB image target: fails when
# binary + ~2 MB base is over it, unless IMAGE_SIZE_CHECK=warn.
#
# It uses the podman CLI only (no `podman system service`); scripts/podman.sh
# install sets podman up. The container and image it makes are removed on
# exit, whatever happens.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

IMAGE="localhost/bond-registry-imagecheck:$$"
CTR="bond-registry-imagecheck-$$"
WORK="$CACHE/image-check"
TARGET_MB=25

cleanup() {
	podman rm -f -t 5 "$CTR" >/dev/null 2>&1 || true
	podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

scripts/podman.sh install

scripts/local-image.sh "$IMAGE" "$WORK"

port=$(free_port 18080)
log "running $CTR as 65532 on 127.0.0.1:$port (host network)"
podman run -d --name "$CTR" --network host --user 65532:65532 \
	-e HOST=127.0.0.1 -e PORT="$port" -e STORE=bolt -e BOLT_PATH=/data/bonds.db -e LOG_FORMAT=json \
	"$IMAGE" serve >/dev/null

healthz() { curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null; }
ok=""
for ((i = 0; i < 100; i++)); do # up to ~20 s
	if healthz; then
		ok=1
		break
	fi
	if [[ $(podman inspect -f '{{.State.Running}}' "$CTR" 2>/dev/null) != true ]]; then
		break
	fi
	sleep 0.2
done
if [[ -z $ok ]]; then
	podman logs "$CTR" >&2 || true
	die "GET /healthz did not answer 200"
fi
echo "GET http://127.0.0.1:$port/healthz: 200"

uid=$(podman exec "$CTR" /bond-registry version >/dev/null && podman top "$CTR" user | tail -n 1 | tr -d ' ')
[[ $uid == 65532 || $uid == nonroot ]] || die "the server runs as '$uid', not 65532"
echo "server runs as user $uid"

podman exec "$CTR" /bond-registry healthcheck || {
	podman logs "$CTR" >&2 || true
	die "bond-registry healthcheck failed"
}
echo "bond-registry healthcheck: exit 0"

podman exec "$CTR" /bond-registry version | sed 's/^/version in image: /'
podman stop -t 10 "$CTR" >/dev/null
echo "stopped $CTR"

bytes=$(stat -c %s "$WORK/rootfs/bond-registry")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
# distroless/static-debian12 adds about 2 MB (CA certificates, tzdata, passwd).
echo "binary: $mb MB; image estimate: binary + ~2 MB distroless static base; target < $TARGET_MB MB"
if ((bytes > (TARGET_MB - 2) * 1048576)); then
	msg="the binary ($mb MB) + the ~2 MB base exceeds the $TARGET_MB MB image target"
	[[ ${IMAGE_SIZE_CHECK:-fail} == warn ]] || die "$msg (IMAGE_SIZE_CHECK=warn makes this a warning)"
	log "warning: $msg"
fi
