#!/usr/bin/env bash
# local-image.sh: builds the service's container image without a registry or
# a Docker engine, the way the Dockerfile's result looks: the static binary
# (built exactly as the Dockerfile builds it) alone in an empty root
# filesystem, plus an /etc/passwd with the distroless nonroot user 65532 and
# writable /data and /tmp, imported with podman under IMAGE with the
# Dockerfile's USER, ENV, ENTRYPOINT and CMD.
#
# Usage: scripts/local-image.sh IMAGE [WORKDIR]
#
#   IMAGE    the name to import as (an existing image of that name is replaced)
#   WORKDIR  where the root filesystem is assembled (default .cache/local-image);
#            WORKDIR/rootfs/bond-registry is the binary, left for inspection
#
# Environment: VERSION, stamped into the binary (default: the VERSION file).
# It uses the podman CLI only; scripts/podman.sh install sets podman up.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

(($# >= 1)) || die "usage: scripts/local-image.sh IMAGE [WORKDIR]"
IMAGE=$1
WORK=${2:-$CACHE/local-image}
VERSION="${VERSION:-$(<"$ROOT/VERSION")}"
need_cmd podman "run 'scripts/podman.sh install' first"

log "building the static binary (version $VERSION)"
rm -rf "$WORK"
mkdir -p "$WORK/rootfs"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
	-o "$WORK/rootfs/bond-registry" ./cmd/bond-registry
if file "$WORK/rootfs/bond-registry" 2>/dev/null | grep -q 'dynamically linked'; then
	die "the binary is dynamically linked"
fi

# The rest of the root filesystem: what distroless static:nonroot gives the
# binary (a passwd entry for 65532, a writable /data and /tmp), nothing else.
rootfs="$WORK/rootfs"
mkdir -p "$rootfs/etc" "$rootfs/data" "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
chown 65532:65532 "$rootfs/data"
chmod 1777 "$rootfs/tmp"
tar -C "$rootfs" --numeric-owner -cf "$WORK/rootfs.tar" .

log "importing $IMAGE"
podman import \
	--change 'ENTRYPOINT ["/bond-registry"]' \
	--change 'CMD ["serve"]' \
	--change 'USER 65532:65532' \
	--change 'ENV HOST=0.0.0.0' \
	--change 'ENV PORT=5000' \
	--change 'ENV BOLT_PATH=/data/bonds.db' \
	--change 'ENV LOG_FORMAT=json' \
	--change 'EXPOSE 5000' \
	"$WORK/rootfs.tar" "$IMAGE" >/dev/null
rm -f "$WORK/rootfs.tar"
