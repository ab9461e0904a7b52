#!/usr/bin/env bash
# dev-tokens.sh FILE: make sure FILE holds a development ADMIN_TOKEN and
# AUDITOR_TOKEN, and print FILE's path. Used by `make run` (scripts/run.sh)
# only: a production `multimedia serve` never invents tokens, it answers 403
# on the editor and auditor endpoints until they are set.
#
# First call: two random tokens (32 URL-safe characters each, from
# /dev/urandom) written as `ADMIN_TOKEN=…` / `AUDITOR_TOKEN=…` lines, the
# file created mode 0600 in a directory made mode 0700. Later calls keep the
# file as it is (so links and shells that use the tokens keep working across
# restarts); delete it to get new tokens. A file missing either token, or
# readable by others, is refused rather than silently rewritten.
#
# Use it as:  set -a; . "$(scripts/dev-tokens.sh .dev/tokens.env)"; set +a
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 FILE" >&2; exit 2; }
file=$1

# token prints 32 URL-safe random characters (192 bits).
token() { head -c 24 /dev/urandom | base64 | tr '+/' '-_'; }

if [ ! -e "$file" ]; then
	dir=$(dirname "$file")
	[ -d "$dir" ] || (umask 077 && mkdir -p "$dir")
	tmp=$(umask 077 && mktemp "$dir/.tokens.XXXXXX")
	{
		echo "# Development tokens made by scripts/dev-tokens.sh for \`make run\` (git-ignored)."
		echo "# Delete this file to get new ones. Load into a shell: set -a; . $file; set +a"
		echo "ADMIN_TOKEN=$(token)"
		echo "AUDITOR_TOKEN=$(token)"
	} >"$tmp"
	chmod 600 "$tmp"
	mv -n "$tmp" "$file"
	rm -f "$tmp"
	log "made development tokens in $file (mode 0600)"
fi

[ -f "$file" ] || die "$file is not a regular file"
mode=$(stat -c %a "$file")
case "$mode" in
*00) ;;
*) die "$file is readable by others (mode $mode): chmod 600 $file" ;;
esac
grep -Eq '^ADMIN_TOKEN=[A-Za-z0-9_-]{16,}$' "$file" || die "$file has no ADMIN_TOKEN=<16+ URL-safe characters> line: delete it to get new tokens"
grep -Eq '^AUDITOR_TOKEN=[A-Za-z0-9_-]{16,}$' "$file" || die "$file has no AUDITOR_TOKEN=<16+ URL-safe characters> line: delete it to get new tokens"
printf '%s\n' "$file"
