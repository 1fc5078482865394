#!/usr/bin/env bash
# podman.sh: a Docker-compatible engine for testcontainers-go on a machine
# without Docker (CI), using podman as root, and a locally built DynamoDB
# Local image (no container registry is reachable there).
#
# Usage: scripts/podman.sh install|start|stop|status|build-image|env
#
#   install      apt-get install podman runc when missing (root only) and
#                write /etc/containers/containers.conf (cgroupfs, runc)
#   start        install if needed, start `podman system service` on
#                $PODMAN_SOCKET in the background and wait until it answers
#   stop         remove the testcontainers containers left behind, stop the
#                service by the PID in .cache/podman.pid and wait
#   status       say whether the service answers (exit 0) or not (exit 3)
#   build-image  build $DYNAMODB_LOCAL_IMAGE from this machine's JRE, bash
#                and the DynamoDB Local jar (skipped when the image exists
#                and was built by this version of the recipe)
#   env          print the exports testcontainers-go needs, for
#                eval "$(scripts/podman.sh env)"
#
# Environment:
#   PODMAN_SOCKET        socket path (default /run/podman/podman.sock)
#   DYNAMODB_LOCAL_IMAGE image name (default amazon/dynamodb-local:2.6.1)
#   JAVA_HOME_FOR_IMAGE  JRE copied into the image
#                        (default /usr/lib/jvm/java-17-openjdk-amd64)
#   PODMAN_TIMEOUT       seconds to wait for the service (default 30)
#
# The image mirrors the real amazon/dynamodb-local: WORKDIR /home/dynamodblocal,
# ENTRYPOINT java, CMD -jar DynamoDBLocal.jar -inMemory, so test code that
# passes "-jar DynamoDBLocal.jar -inMemory ... -port N" works with both; and
# like the real one it has /bin/sh and bash, which docker-compose.yml's
# health check of dynamodb-local runs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PODMAN_SOCKET="${PODMAN_SOCKET:-/run/podman/podman.sock}"
IMAGE="${DYNAMODB_LOCAL_IMAGE:-amazon/dynamodb-local:2.6.1}"
JRE="${JAVA_HOME_FOR_IMAGE:-/usr/lib/jvm/java-17-openjdk-amd64}"
PID_FILE="$CACHE/podman.pid"
LOG_FILE="$CACHE/podman.log"
PID_PATTERN="system service"
CONF=/etc/containers/containers.conf
# Image paths, as in the real amazon/dynamodb-local image.
IMAGE_WORKDIR=/home/dynamodblocal
# The recipe's version, kept in an image label: an image built by an older
# recipe (without bash) is rebuilt.
RECIPE=2

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

is_root() { [[ $(id -u) -eq 0 ]]; }

write_conf() {
	# crun fails on this kernel ("cgroups in hybrid mode"); runc works.
	# default_ulimits = [] because the default nofile ulimit cannot be set
	# inside the CI sandbox.
	local want
	want=$(
		cat <<'EOF'
# Written by scripts/podman.sh (bond-registry).
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
	)
	if [[ -f $CONF ]] && [[ $(<"$CONF") == "$want" ]]; then
		return 0
	fi
	is_root || die "$CONF must hold cgroupfs/runc settings; run 'scripts/podman.sh install' as root"
	if [[ -f $CONF ]] && ! grep -q 'Written by scripts/podman.sh' "$CONF"; then
		cp "$CONF" "$CONF.bak"
		log "saved the previous $CONF as $CONF.bak"
	fi
	mkdir -p "$(dirname "$CONF")"
	printf '%s\n' "$want" >"$CONF"
	log "wrote $CONF"
}

install() {
	if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
		is_root || die "podman and runc are missing; install them as root (apt-get install -y podman runc) or run this script as root"
		need_cmd apt-get "install podman and runc with your package manager"
		log "installing podman and runc with apt-get"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >"$CACHE/apt-podman.log" 2>&1; then
			log "apt-get install failed; running apt-get update and retrying"
			apt-get update -q >>"$CACHE/apt-podman.log" 2>&1 || true
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >>"$CACHE/apt-podman.log" 2>&1 ||
				{ tail -n 20 "$CACHE/apt-podman.log" >&2; die "apt-get install podman runc failed"; }
		fi
		log "installed $(podman --version)"
	else
		log "$(podman --version) and runc already installed"
	fi
	write_conf
}

# answers succeeds when the Docker-compatible API answers on the socket.
answers() {
	[[ -S $PODMAN_SOCKET ]] &&
		[[ $(curl -s --max-time 2 --unix-socket "$PODMAN_SOCKET" http://d/_ping) == OK ]]
}

start() {
	if pid_alive "$PID_FILE" "$PID_PATTERN" && answers; then
		log "podman service already running (pid $(<"$PID_FILE")) on $PODMAN_SOCKET"
		return 0
	fi
	need_cmd curl "install curl (apt-get install -y curl)"
	if answers; then
		log "a service not started by this script already answers on $PODMAN_SOCKET; using it"
		return 0
	fi
	mkdir -p "$CACHE"
	install
	mkdir -p "$(dirname "$PODMAN_SOCKET")"
	rm -f "$PODMAN_SOCKET"
	log "starting podman system service on unix://$PODMAN_SOCKET (log: ${LOG_FILE#"$ROOT"/})"
	setsid podman system service --time=0 "unix://$PODMAN_SOCKET" </dev/null >"$LOG_FILE" 2>&1 &
	echo $! >"$PID_FILE"
	local rc=0 t0=$SECONDS
	wait_until "${PODMAN_TIMEOUT:-30}" "$PID_FILE" answers || rc=$?
	if ((rc != 0)); then
		log "error: podman service did not answer on $PODMAN_SOCKET; last lines of ${LOG_FILE#"$ROOT"/}:"
		tail -n 25 "$LOG_FILE" >&2 || true
		stop_pid "$PID_FILE" "$PID_PATTERN" "podman service" 5 || true
		exit 1
	fi
	log "podman service answers on $PODMAN_SOCKET (pid $(<"$PID_FILE"), ready after $((SECONDS - t0))s)"
}

stop() {
	if command -v podman >/dev/null 2>&1; then
		# Containers that testcontainers-go started carry this label; with
		# the reaper (Ryuk) disabled nothing else removes them when a test
		# binary dies before its cleanup.
		local ids
		ids=$(podman ps -a -q --filter label=org.testcontainers=true 2>/dev/null || true)
		if [[ -n $ids ]]; then
			log "removing leftover test containers: $(echo "$ids" | tr '\n' ' ')"
			# shellcheck disable=SC2086 # one id per word
			podman rm -f -t 2 $ids >/dev/null || log "warning: could not remove every container"
		fi
	fi
	stop_pid "$PID_FILE" "$PID_PATTERN" "podman service" 20
	# Do not remove a socket that another service still owns.
	if [[ -S $PODMAN_SOCKET ]] && ! answers; then
		rm -f "$PODMAN_SOCKET"
	fi
}

status() {
	if answers; then
		if pid_alive "$PID_FILE" "$PID_PATTERN"; then
			log "podman service running (pid $(<"$PID_FILE")) on $PODMAN_SOCKET"
		else
			log "a podman/docker service not started by this script answers on $PODMAN_SOCKET"
		fi
		return 0
	fi
	log "no service answers on $PODMAN_SOCKET"
	return 3
}

env_exports() {
	cat <<EOF
export DOCKER_HOST=unix://$PODMAN_SOCKET
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export DYNAMODB_LOCAL_IMAGE=$IMAGE
EOF
}

# copy_with_parents copies FILE (following symlinks) to the same path under DIR.
copy_with_parents() {
	local file=$1 dir=$2
	mkdir -p "$dir$(dirname "$file")"
	cp -L "$file" "$dir$file"
}

build_image() {
	need_cmd podman "run 'scripts/podman.sh install' first"
	if podman image exists "$IMAGE" &&
		[[ $(podman image inspect -f '{{index .Labels "bond-registry.recipe"}}' "$IMAGE") == "$RECIPE" ]]; then
		log "image $IMAGE already exists"
		return 0
	fi
	[[ -x $JRE/bin/java ]] || die "no JRE at $JRE (set JAVA_HOME_FOR_IMAGE)"
	need_cmd ldd "install libc-bin"
	"$(dirname "${BASH_SOURCE[0]}")/dynamodb-local.sh" install
	local emulator="$CACHE/dynamodb-local/node_modules/amplify-dynamodb-simulator/emulator"
	local rootfs
	mkdir -p "$CACHE"
	# work is global: the EXIT trap reads it after this function returns.
	work=$(mktemp -d "$CACHE/image-build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	rootfs="$work/rootfs"
	log "assembling the root filesystem for $IMAGE in ${work#"$ROOT"/}"

	# A merged-/usr layout like Debian's, so /lib/... and /usr/lib/... paths
	# that ldd reports land in the same place.
	mkdir -p "$rootfs/usr/lib" "$rootfs/usr/lib64" "$rootfs/usr/bin"
	ln -s usr/lib "$rootfs/lib"
	ln -s usr/lib64 "$rootfs/lib64"
	ln -s usr/bin "$rootfs/bin"

	# The JRE, with its symlinks (some point into /etc) resolved and the
	# dangling ones (src.zip when no JDK sources are installed) dropped.
	mkdir -p "$rootfs$(dirname "$JRE")"
	cp -a "$JRE" "$rootfs$JRE"
	local link target
	while IFS= read -r -d '' link; do
		target=$(readlink -f "$JRE${link#"$rootfs$JRE"}" || true)
		rm "$link"
		if [[ -n $target && -e $target ]]; then
			cp -aL "$target" "$link"
		fi
	done < <(find "$rootfs$JRE" -type l -print0)
	ln -s "$JRE/bin/java" "$rootfs/usr/bin/java"
	# bash, also as /bin/sh: the shell of compose's CMD-SHELL health check.
	need_cmd bash "install bash"
	cp -L "$(command -v bash)" "$rootfs/usr/bin/bash"
	ln -s bash "$rootfs/usr/bin/sh"

	# DynamoDB Local, where the real image keeps it.
	mkdir -p "$rootfs$IMAGE_WORKDIR"
	cp -a "$emulator/DynamoDBLocal.jar" "$emulator/DynamoDBLocal_lib" "$rootfs$IMAGE_WORKDIR/"

	# Every shared library the JRE and sqlite4java load, plus the loader.
	local libs lib
	libs=$(
		find "$JRE/bin" "$JRE/lib" -type f \( -name '*.so' -o -path "$JRE/bin/*" \) -print0 |
			xargs -0 ldd "$emulator/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so" "$(command -v bash)" 2>/dev/null |
			awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' |
			grep -v "^$JRE/" | sort -u
	)
	for lib in $libs /lib64/ld-linux-x86-64.so.2; do
		[[ -e $rootfs$lib ]] || copy_with_parents "$lib" "$rootfs"
	done
	mkdir -p "$rootfs/tmp" "$rootfs/etc"
	chmod 1777 "$rootfs/tmp"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
	printf 'root:x:0:\n' >"$rootfs/etc/group"
	printf '127.0.0.1 localhost\n' >"$rootfs/etc/hosts"

	tar -C "$rootfs" -cf "$work/rootfs.tar" .
	log "importing $IMAGE ($(du -sh "$work/rootfs.tar" | cut -f1) root filesystem)"
	podman import \
		--change "WORKDIR $IMAGE_WORKDIR" \
		--change "ENV PATH=$JRE/bin:/usr/bin:/bin" \
		--change "ENV JAVA_HOME=$JRE" \
		--change "ENTRYPOINT [\"java\", \"-Djava.library.path=$IMAGE_WORKDIR/DynamoDBLocal_lib\"]" \
		--change 'CMD ["-jar", "DynamoDBLocal.jar", "-inMemory"]' \
		--change 'EXPOSE 8000' \
		--change 'LABEL org.opencontainers.image.description="Local stand-in for amazon/dynamodb-local: DynamoDB Local from npm amplify-dynamodb-simulator@2.9.30 on the host JRE, built by scripts/podman.sh"' \
		--change "LABEL bond-registry.recipe=$RECIPE" \
		--message "built by scripts/podman.sh" \
		"$work/rootfs.tar" "$IMAGE" >/dev/null
	rm -rf "$work"
	log "built image $IMAGE"
	# Prove the image runs: DynamoDB Local prints its usage with -help.
	podman run --rm --network none "$IMAGE" -jar DynamoDBLocal.jar -help >"$CACHE/image-check.log" 2>&1 ||
		{ tail -n 20 "$CACHE/image-check.log" >&2; die "image $IMAGE does not run"; }
	podman run --rm --network none --entrypoint /bin/sh "$IMAGE" -c 'bash -c "exit 0"' >>"$CACHE/image-check.log" 2>&1 ||
		{ tail -n 20 "$CACHE/image-check.log" >&2; die "image $IMAGE has no working /bin/sh and bash"; }
	log "image $IMAGE runs"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
build-image) build_image ;;
env) env_exports ;;
*) usage ;;
esac
