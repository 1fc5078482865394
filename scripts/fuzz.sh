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
for t in "${targets[@]}"; do
	dir=${t% *} name=${t#* }
	out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "./$dir" 2>&1) || {
		printf '%s\n' "$out" >&2
		die "fuzz target $name in $dir failed (the crasher is in $dir/testdata/fuzz/$name)"
	}
	execs=$(printf '%s\n' "$out" | grep -o 'execs: [0-9]*' | tail -n 1)
	printf 'fuzz %-28s %-24s %s in %s\n' "$name" "./$dir" "${execs:-execs: ?}" "$time"
done
