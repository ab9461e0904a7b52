#!/usr/bin/env bash
# ensure-chromium.sh: make sure a headless-capable Chromium is installed, for
# the dashboard's browser test (httpapi TestDashboardInChromium). Idempotent.
#
# When no chromium binary is found, installs Debian's `chromium` package
# (apt-get, as root or through sudo). Prints the binary's path on stdout.
#
# Env: CHROMIUM (a binary to use instead of searching).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

find_chromium() {
	for c in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
		[ -n "$c" ] && command -v "$c" 2>/dev/null && return 0
	done
	return 1
}

if bin=$(find_chromium); then
	log "chromium already installed: $bin"
	echo "$bin"
	exit 0
fi
apt_install chromium
bin=$(find_chromium) || die "chromium is still missing after apt-get install"
log "chromium installed: $bin ($("$bin" --version 2>/dev/null || echo unknown version))"
echo "$bin"
