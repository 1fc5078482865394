#!/usr/bin/env bash
# dynamodb-local.sh: run AWS DynamoDB Local (from the npm package
# amplify-dynamodb-simulator) on Java, without Docker.
#
# Usage: scripts/dynamodb-local.sh install|start|stop|status|endpoint
#
#   install   fetch the package into .cache/dynamodb-local (skipped when present)
#   start     install if needed, start DynamoDB Local in memory on 127.0.0.1,
#             wait until it answers and print its endpoint as the only line
#             on stdout (everything else goes to stderr), so that
#               export DYNAMODB_ENDPOINT=$(scripts/dynamodb-local.sh start)
#             points the next commands at it
#   stop      stop it (by the PID in .cache/dynamodb-local.pid) and wait
#   status    say whether it runs (exit 0) or not (exit 3)
#   endpoint  print the endpoint of the running instance (exit 3 when none)
#
# Environment:
#   DYNAMODB_LOCAL_PORT     port; when it is taken, start fails with one line.
#                           Unset: 8000, or, when 8000 is taken, a free port,
#                           said on stderr (the endpoint on stdout has it)
#   DYNAMODB_LOCAL_DB_PATH  persist tables in this directory instead of -inMemory
#   DYNAMODB_LOCAL_TIMEOUT  seconds to wait for it to answer (default 60)
#   JAVA                    java binary (default: java from PATH; Java 11+)
#
# Files: .cache/dynamodb-local.pid, .cache/dynamodb-local.endpoint,
#        .cache/dynamodb-local.log
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGE="amplify-dynamodb-simulator@2.9.30"
INSTALL_DIR="$CACHE/dynamodb-local"
EMULATOR="$INSTALL_DIR/node_modules/amplify-dynamodb-simulator/emulator"
PID_FILE="$CACHE/dynamodb-local.pid"
ENDPOINT_FILE="$CACHE/dynamodb-local.endpoint"
LOG_FILE="$CACHE/dynamodb-local.log"
JAVA="${JAVA:-java}"
# PID_PATTERN must appear in the command line of the process we started.
PID_PATTERN="DynamoDBLocal.jar"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

# install fetches the package tarball with npm (no dependencies: only the
# jar and its libraries are needed) and unpacks it where `npm install`
# would put it. Idempotent.
install() {
	if [[ -f $EMULATOR/DynamoDBLocal.jar && -d $EMULATOR/DynamoDBLocal_lib ]]; then
		log "$PACKAGE already installed in ${INSTALL_DIR#"$ROOT"/}"
		return 0
	fi
	need_cmd npm "install Node.js/npm (Debian: apt-get install -y npm) to fetch $PACKAGE"
	need_cmd tar "install tar"
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/dynamodb-local.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "fetching $PACKAGE with npm"
	(cd "$tmp" && npm pack --silent --no-audit --no-fund "$PACKAGE" >/dev/null) ||
		die "npm pack $PACKAGE failed (is the npm registry reachable?)"
	mkdir -p "$tmp/node_modules/amplify-dynamodb-simulator"
	tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp/node_modules/amplify-dynamodb-simulator" \
		--strip-components=1 --no-same-owner
	[[ -f $tmp/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar ]] ||
		die "$PACKAGE has no emulator/DynamoDBLocal.jar"
	rm -rf "$INSTALL_DIR"
	mkdir -p "$INSTALL_DIR"
	mv "$tmp/node_modules" "$INSTALL_DIR/node_modules"
	rm -rf "$tmp"
	log "installed DynamoDB Local in ${EMULATOR#"$ROOT"/}"
}

check_java() {
	need_cmd "$JAVA" "install Java 11+ (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA"
	local version major
	version=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
	major=${version%%.*}
	[[ $major =~ ^[0-9]+$ ]] || die "cannot read the version of '$JAVA' (got '$version')"
	((major >= 11)) || die "DynamoDB Local needs Java 11+, '$JAVA' is $version"
}

# answers succeeds when an HTTP server answers (any status) on the endpoint.
answers() {
	curl -s -o /dev/null --max-time 2 "$1"
}

# start writes the endpoint on fd 3, the caller's stdout; everything else,
# its own lines and those of the commands it runs, goes to stderr.
start() {
	exec 3>&1 1>&2
	local want=${DYNAMODB_LOCAL_PORT:-}
	[[ -z $want || $want =~ ^[0-9]+$ ]] || die "DYNAMODB_LOCAL_PORT=$want is not a port number"
	if pid_alive "$PID_FILE" "$PID_PATTERN"; then
		local running
		running=$(<"$ENDPOINT_FILE")
		[[ -z $want || $running == *":$want" ]] ||
			die "DynamoDB Local already runs at $running, not on DYNAMODB_LOCAL_PORT=$want: stop it first (scripts/dynamodb-local.sh stop)"
		log "already running (pid $(<"$PID_FILE")) at $running"
		echo "$running" >&3
		return 0
	fi
	local port storage=(-inMemory)
	if [[ -n $want ]]; then
		port=$want
		! port_in_use "$port" ||
			die "port $port (DYNAMODB_LOCAL_PORT) is taken: choose another, e.g. DYNAMODB_LOCAL_PORT=$((port + 1)) scripts/dynamodb-local.sh start"
	else
		port=$(free_port 8000)
		((port == 8000)) ||
			log "port 8000 is taken: serving on $port instead (the endpoint printed on stdout has it; DYNAMODB_LOCAL_PORT chooses the port)"
	fi
	check_java
	need_cmd curl "install curl (apt-get install -y curl)"
	install
	if [[ -n ${DYNAMODB_LOCAL_DB_PATH:-} ]]; then
		mkdir -p "$DYNAMODB_LOCAL_DB_PATH"
		storage=(-dbPath "$(cd "$DYNAMODB_LOCAL_DB_PATH" && pwd)")
	fi
	local endpoint="http://127.0.0.1:$port"

	# DynamoDB Local has no bind-address option: it listens on every
	# interface of its port. Clients must use 127.0.0.1 only.
	log "starting DynamoDB Local on $endpoint (log: ${LOG_FILE#"$ROOT"/})"
	(
		cd "$EMULATOR"
		exec setsid "$JAVA" -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
			"${storage[@]}" -sharedDb -disableTelemetry -port "$port"
	) </dev/null >"$LOG_FILE" 2>&1 3>&- & # 3>&-: $(...start) waits for the end of stdout, not of Java
	echo $! >"$PID_FILE"
	echo "$endpoint" >"$ENDPOINT_FILE"

	local rc=0 t0=$SECONDS
	wait_until "${DYNAMODB_LOCAL_TIMEOUT:-60}" "$PID_FILE" answers "$endpoint" || rc=$?
	if ((rc != 0)); then
		if ((rc == 2)); then
			log "error: DynamoDB Local exited during start-up; last lines of ${LOG_FILE#"$ROOT"/}:"
		else
			log "error: DynamoDB Local did not answer on $endpoint within ${DYNAMODB_LOCAL_TIMEOUT:-60}s; last lines of ${LOG_FILE#"$ROOT"/}:"
		fi
		tail -n 25 "$LOG_FILE" >&2 || true
		stop_pid "$PID_FILE" "$PID_PATTERN" "DynamoDB Local" 5 || true
		rm -f "$ENDPOINT_FILE"
		exit 1
	fi
	log "DynamoDB Local answers on $endpoint (pid $(<"$PID_FILE"), ready after $((SECONDS - t0))s)"
	echo "$endpoint" >&3
}

stop() {
	stop_pid "$PID_FILE" "$PID_PATTERN" "DynamoDB Local" 20
	rm -f "$ENDPOINT_FILE"
}

status() {
	if pid_alive "$PID_FILE" "$PID_PATTERN"; then
		log "running (pid $(<"$PID_FILE")) at $(<"$ENDPOINT_FILE")"
		return 0
	fi
	log "not running"
	return 3
}

endpoint() {
	pid_alive "$PID_FILE" "$PID_PATTERN" || { log "not running"; return 3; }
	cat "$ENDPOINT_FILE"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
endpoint) endpoint ;;
*) usage ;;
esac
