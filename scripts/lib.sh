# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets ROOT (the repository root) and CACHE (ROOT/.cache, gitignored),
# where every script keeps downloads, logs and the PID files of the servers
# it starts.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
export ROOT CACHE

# log prints a message to stderr, prefixed with the calling script's name.
log() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

# die prints a message to stderr and exits 1.
die() {
	log "error: $*"
	exit 1
}

# need_cmd fails with a clear message when a command is missing.
# Usage: need_cmd CMD "what to install"
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found in PATH: $2"
}

# port_in_use succeeds when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port prints PREFERRED when nothing listens on it, otherwise a free
# port picked from 20000-31999: below Linux's ephemeral range (32768+), so
# that no outgoing connection of a load test can hold it when we bind it.
free_port() {
	local p=$1 i
	if ! port_in_use "$p"; then
		echo "$p"
		return 0
	fi
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 12000))
		if ! port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free TCP port found on 127.0.0.1"
}

# pid_alive succeeds when the PID in FILE is a running process whose command
# line contains PATTERN (so a recycled PID is never mistaken for ours).
# Usage: pid_alive FILE PATTERN
pid_alive() {
	local file=$1 pattern=$2 pid
	[[ -s $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

# stop_pid stops the process whose PID is in FILE (when it matches PATTERN):
# SIGTERM, then polls up to TIMEOUT seconds, then SIGKILL. Removes FILE.
# Usage: stop_pid FILE PATTERN NAME [TIMEOUT]
stop_pid() {
	local file=$1 pattern=$2 name=$3 timeout=${4:-20} pid i
	if ! pid_alive "$file" "$pattern"; then
		log "$name is not running"
		rm -f "$file"
		return 0
	fi
	pid=$(<"$file")
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		[[ -e /proc/$pid ]] || break
		# A zombie child of this shell still has /proc/PID; treat it as gone.
		[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
		sleep 0.1
	done
	if [[ -e /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
		log "$name did not exit within ${timeout}s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$file"
	log "$name stopped"
}

# wait_until polls CMD... every 0.2s until it succeeds or TIMEOUT seconds
# pass; while waiting it also fails early when the process in PIDFILE dies.
# Usage: wait_until TIMEOUT PIDFILE CMD [ARGS...]
wait_until() {
	local timeout=$1 pidfile=$2 deadline pid=""
	shift 2
	[[ -s $pidfile ]] && pid=$(<"$pidfile")
	deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			return 2
		fi
		sleep 0.2
	done
	return 1
}

# apt_install PACKAGE...: installs Debian packages (root only), running
# apt-get update once and retrying when the package lists are missing or
# stale, as they are on a new machine.
apt_install() {
	[[ $(id -u) -eq 0 ]] || die "cannot install $* without root: apt-get install -y $*"
	need_cmd apt-get "install $* with your package manager"
	log "installing $* with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; } ||
		die "apt-get install $* failed"
}
