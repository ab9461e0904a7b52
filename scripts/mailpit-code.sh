#!/usr/bin/env bash
# mailpit-code.sh EMAIL [verify|reset]: print the code of the newest
# verification (default) or password-reset mail to EMAIL in the development
# Mailpit, waiting up to MAILPIT_CODE_WAIT seconds (10) for it to arrive
# (mail leaves through the outbox, a moment after the request answers).
# It reads Mailpit's API: GET /api/v1/search?query=to:EMAIL subject:"…".
#
# Env: MAILPIT_HTTP (127.0.0.1:8025, as for ensure-mailpit.sh).
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 EMAIL [verify|reset]" >&2; exit 2; }
email=$1
case "${2:-verify}" in
verify) subject="verification code" ;;
reset) subject="password reset code" ;;
*) echo "$0: the kind is verify or reset, not ${2}" >&2; exit 2 ;;
esac
base=http://${MAILPIT_HTTP:-127.0.0.1:8025}
wait=${MAILPIT_CODE_WAIT:-10}

for ((i = 0; i <= wait * 4; i++)); do
	reply=$(curl -fsS -G "$base/api/v1/search" --data-urlencode "query=to:$email subject:\"$subject\"" --data-urlencode limit=1) ||
		{ echo "$0: Mailpit does not answer at $base" >&2; exit 1; }
	# The summary's Snippet holds the start of the text, code included.
	code=$(printf '%s' "$reply" | grep -oE '"Snippet":"[^"]*' | head -n 1 | grep -oE '[0-9]{6}' | head -n 1 || true)
	if [ -n "$code" ]; then
		printf '%s\n' "$code"
		exit 0
	fi
	sleep 0.25
done
echo "$0: no $subject mail to $email in Mailpit ($base) after ${wait}s" >&2
exit 1
