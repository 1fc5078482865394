#!/usr/bin/env bash
# fuzz.sh: runs every Go fuzz target of the repository for a bounded time
# (FUZZ_TIME, default 20s, each), one after the other, and fails on the
# first crasher (go test -fuzz writes it to the package's testdata/fuzz,
# where it becomes a regression input: commit it with the fix). It prints
# each target's executions. Part of `make test`; `make fuzz` runs it alone.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

time=${FUZZ_TIME:-20s}
mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' internal cmd api 2>/dev/null |
	xargs grep -H -o '^func Fuzz[A-Za-z0-9_]*' | sed 's|/[^/]*_test.go:func | |' | sort -u)
[[ ${#targets[@]} -gt 0 ]] || die "no fuzz targets found"
# fuzz NAME DIR runs one target; its output is in $out.
fuzz() {
	out=$(go test -run '^$' -fuzz "^${1}\$" -fuzztime "$time" "./$2" 2>&1)
}
for t in "${targets[@]}"; do
	dir=${t% *} name=${t#* }
	if ! fuzz "$name" "$dir"; then
		# Go's fuzzing coordinator can report "context deadline exceeded"
		# when -fuzztime ends while a worker is busy on a loaded machine:
		# no input failed and no crasher was written. Run it once more;
		# any other failure, or the same one twice, fails.
		if [[ $out == *"context deadline exceeded"* && $out != *"Failing input written"* ]]; then
			log "fuzz target $name: the coordinator's deadline, no failing input; running it again"
			fuzz "$name" "$dir" || {
				printf '%s\n' "$out" >&2
				die "fuzz target $name in $dir failed (the crasher is in $dir/testdata/fuzz/$name)"
			}
		else
			printf '%s\n' "$out" >&2
			die "fuzz target $name in $dir failed (the crasher is in $dir/testdata/fuzz/$name)"
		fi
	fi
	execs=$(printf '%s\n' "$out" | grep -o 'execs: [0-9]*' | tail -n 1 || true)
	printf 'fuzz %-28s %-24s %s in %s\n' "$name" "./$dir" "${execs:-execs: ?}" "$time"
done
