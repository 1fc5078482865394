#!/usr/bin/env bash
# bench.sh: the benchmark of `make bench`. Builds the bench driver (the
# bench/ module: it drives the service over HTTP and its command line only),
# brings up DynamoDB Local (scripts/dynamodb-local.sh) unless one is given,
# runs bondbench against bin/bond-registry (built by `make build`), then the
# DynamoDB store's paired benchmark against the same DynamoDB Local (each
# store operation beside the bare SDK call it makes), and stops what it
# started. Prints one table plus ratio lines; writes build/bench/results.json
# and build/bench/latency.png. About 5-6 minutes.
#
# Usage: scripts/bench.sh              the benchmark
#        scripts/bench.sh compare REV  GET /bonds/{id} of the service built at
#                                      git revision REV (old) and of
#                                      bin/bond-registry (new), in alternating
#                                      rounds: does the change pay for itself?
#
# Environment (all optional):
#   BENCH_BONDS         bonds of the main data set (default 10000)
#   BENCH_SCALE         sizes of the scale runs on bolt (default 1000,100000)
#   BENCH_CLIENTS       concurrent clients of the closed loop (default 32)
#   BENCH_DURATION      measured time per scenario (default 6s)
#   BENCH_WARMUP        unmeasured warm-up per scenario (default 1s)
#   BENCH_RATE          requests/s of the constant-rate scenarios (default 300)
#   BENCH_STARTUP_RUNS  start-to-ready repetitions (default 10)
#   BENCH_OUT           output folder (default build/bench)
#   BENCH_BIN           service binary (default bin/bond-registry)
#   DYNAMODB_ENDPOINT   use this DynamoDB Local instead of starting one
#                       (otherwise: scripts/dynamodb-local.sh start, or, when
#                       that instance already runs for tests, a private one)
#   BENCH_NO_DYNAMODB=1 skip the DynamoDB scenarios
#   BENCH_COMPARE_ROUNDS rounds of `compare` (default 10)
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

need_cmd go "install Go 1.26+"

BENCH_BIN=${BENCH_BIN:-bin/bond-registry}
BENCH_OUT=${BENCH_OUT:-build/bench}
export BENCH_BIN BENCH_OUT
[[ -x $BENCH_BIN ]] || die "$BENCH_BIN not found: run 'make build' first (make bench does)"

mkdir -p "$CACHE/bin" "$BENCH_OUT"
log "building the bench driver (module bench/)"
(cd bench && CGO_ENABLED=0 go build -trimpath -o "$CACHE/bin/bondbench" ./cmd/bondbench)

# compare REV: build the service at REV beside bin/bond-registry and compare
# the two on GET /bonds/{id} (bondbench compare).
if [[ ${1:-} == compare ]]; then
	rev=${2:?usage: scripts/bench.sh compare REV}
	src="$CACHE/compare-src"
	old="$CACHE/bin/bond-registry-$(git rev-parse --short "$rev")"
	rm -rf "$src" && mkdir -p "$src"
	git archive "$rev" | tar -x -C "$src"
	log "building the service at $rev into $old"
	# The flags of `make build`, so that only the source differs.
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$old" ./cmd/bond-registry)
	rm -rf "$src"
	exec "$CACHE/bin/bondbench" compare "$old" "$BENCH_BIN"
fi

started_dynamodb=0
PRIVATE_PID_FILE="$CACHE/bench-dynamodb-local.pid"
cleanup() {
	local rc=$?
	if ((started_dynamodb == 1)); then
		"$ROOT/scripts/dynamodb-local.sh" stop || rc=1
	elif ((started_dynamodb == 2)); then
		stop_pid "$PRIVATE_PID_FILE" DynamoDBLocal.jar "DynamoDB Local (bench)" 20 || rc=1
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_private runs a DynamoDB Local of the bench's own (in memory, free
# port, PID file .cache/bench-dynamodb-local.pid) from the jar that
# dynamodb-local.sh installed, when that script's instance already serves
# someone else (tests): sharing it would skew the numbers, and its owner may
# stop it in the middle of the run.
start_private() {
	local emulator="$CACHE/dynamodb-local/node_modules/amplify-dynamodb-simulator/emulator" port
	"$ROOT/scripts/dynamodb-local.sh" install
	port=$(free_port 8100)
	log "DynamoDB Local already runs for someone else: starting the bench's own on 127.0.0.1:$port"
	(
		cd "$emulator"
		exec setsid "${JAVA:-java}" -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
			-inMemory -sharedDb -disableTelemetry -port "$port"
	) </dev/null >"$CACHE/bench-dynamodb-local.log" 2>&1 &
	echo $! >"$PRIVATE_PID_FILE"
	started_dynamodb=2
	DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
	wait_until 60 "$PRIVATE_PID_FILE" curl -s -o /dev/null --max-time 2 "$DYNAMODB_ENDPOINT" ||
		die "the bench's DynamoDB Local did not answer; see .cache/bench-dynamodb-local.log"
}

if [[ ${BENCH_NO_DYNAMODB:-} == 1 ]]; then
	unset DYNAMODB_ENDPOINT
	log "BENCH_NO_DYNAMODB=1: DynamoDB scenarios skipped"
elif [[ -z ${DYNAMODB_ENDPOINT:-} ]]; then
	if "$ROOT/scripts/dynamodb-local.sh" status 2>/dev/null; then
		start_private
	else
		started_dynamodb=1
		DYNAMODB_ENDPOINT=$("$ROOT/scripts/dynamodb-local.sh" start)
	fi
fi
if [[ -n ${DYNAMODB_ENDPOINT:-} ]]; then
	export DYNAMODB_ENDPOINT
	# DynamoDB Local accepts any credentials: these documented dummy values
	# keep the SDK's credential chain from looking further.
	export AWS_REGION=${AWS_REGION:-us-east-1}
	export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
	unset AWS_SESSION_TOKEN AWS_PROFILE
fi

"$CACHE/bin/bondbench" run

# dynamodb_paired prints the DynamoDB store's direct-SDK ceilings: a Go
# benchmark in internal/dynamostore (BenchmarkPaired...) that runs each store
# operation beside the bare SDK call built by the store's own code, on the
# same DynamoDB Local, so the ceiling is the very operation the store makes.
dynamodb_paired() {
	printf '\nDynamoDB store vs its bare SDK calls (internal/dynamostore, paired):\n'
	if [[ -z ${DYNAMODB_ENDPOINT:-} ]]; then
		echo "not measured: no DynamoDB endpoint"
		return 0
	fi
	if ! grep -qs '^func BenchmarkPaired' internal/dynamostore/*_test.go; then
		echo "not measured: internal/dynamostore has no BenchmarkPaired benchmark yet"
		return 0
	fi
	DYNAMODB_TEST_ENDPOINT=$DYNAMODB_ENDPOINT go test -run '^$' -bench Paired -benchtime "${BENCH_PAIRED_CALLS:-400}x" ./internal/dynamostore
}
dynamodb_paired
