#!/usr/bin/env bash
# awscli.sh: make sure the AWS CLI is available (localdb/init.sh needs it).
#
# Usage: scripts/awscli.sh install
#
#   install  apt-get install -y awscli when `aws` is not in PATH (root only)
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install() {
	if command -v aws >/dev/null 2>&1; then
		log "$(aws --version 2>&1) already installed"
		return 0
	fi
	apt_install awscli
	log "installed $(aws --version 2>&1)"
}

case "${1:-}" in
install) install ;;
*)
	echo "usage: $0 install" >&2
	exit 2
	;;
esac
