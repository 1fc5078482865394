#!/usr/bin/env bash
# awscli.sh: make sure Debian's AWS CLI (package awscli) is installed, for
# localdb/init.sh, and print its path.
#
# Usage: scripts/awscli.sh install
#
#   install  apt-get install -y awscli when the package is missing (root
#            only); prints /usr/bin/aws. Another `aws` earlier in PATH (a
#            pip install, say) is left alone: CI runs Debian's.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AWS=/usr/bin/aws

install() {
	if [[ -x $AWS ]]; then
		log "$("$AWS" --version 2>&1) already installed"
	else
		apt_install awscli
		log "installed $("$AWS" --version 2>&1)"
	fi
	echo "$AWS"
}

case "${1:-}" in
install) install ;;
*)
	echo "usage: $0 install" >&2
	exit 2
	;;
esac
