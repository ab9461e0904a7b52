#!/usr/bin/env bash
# run.sh [ARGS...]: provision PostgreSQL and Mailpit, create the database
# (DB_NAME, default multimedia; or the one named by DATABASE_URL when set)
# if missing, then `go run ./cmd/multimedia ARGS` (default: serve) with
# DATABASE_URL, SMTP_ADDR and HTTP_ADDR set.
#
# For serve (development only), ADMIN_TOKEN and AUDITOR_TOKEN come from the
# environment when set, else from the git-ignored DEV_TOKENS_FILE (default
# .dev/tokens.env, mode 0600), made with random tokens on the first start
# (scripts/dev-tokens.sh). Once /healthz answers, a start banner with the
# links and tokens is printed (scripts/dev-banner.sh). `multimedia serve`
# itself never invents tokens.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SCRIPTS/.." && pwd)

PG_ADMIN_URL=$("$SCRIPTS/ensure-postgres.sh")
export PG_ADMIN_URL
"$SCRIPTS/ensure-mailpit.sh"

db=${DB_NAME:-multimedia}
if [ -n "${DATABASE_URL:-}" ]; then
	case "$DATABASE_URL" in
	postgres://* | postgresql://*)
		db=$(printf '%s' "$DATABASE_URL" | sed -E 's#^postgres(ql)?://[^/?]*/?([^?]*).*#\2#')
		;;
	esac
fi
url=$("$SCRIPTS/create-db.sh" "${db:-multimedia}")
# Keep the user's own DATABASE_URL (it may carry a password or options).
export DATABASE_URL=${DATABASE_URL:-$url}
export SMTP_ADDR=${SMTP_ADDR:-${MAILPIT_SMTP:-127.0.0.1:1025}}
export HTTP_ADDR=${HTTP_ADDR:-:8080}
port=${HTTP_ADDR##*:}
mailpit_port=${MAILPIT_HTTP:-127.0.0.1:8025}
mailpit_port=${mailpit_port##*:}

[ $# -gt 0 ] || set -- serve
tokens_file=${DEV_TOKENS_FILE:-$ROOT/.dev/tokens.env}
if [ "$1" = serve ] && { [ -z "${ADMIN_TOKEN:-}" ] || [ -z "${AUDITOR_TOKEN:-}" ]; }; then
	user_admin=${ADMIN_TOKEN:-} user_auditor=${AUDITOR_TOKEN:-}
	set -a
	# shellcheck disable=SC1090
	. "$("$SCRIPTS/dev-tokens.sh" "$tokens_file")"
	set +a
	# A token the user set wins over the file's.
	ADMIN_TOKEN=${user_admin:-$ADMIN_TOKEN} AUDITOR_TOKEN=${user_auditor:-$AUDITOR_TOKEN}
else
	tokens_file= # the user's own tokens: the banner says so
fi
[ -f "$ROOT/.bin/mailpit.ui" ] || log "note: this Mailpit has no web UI; read mail at http://localhost:$mailpit_port/api/v1/messages"
log "DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#') SMTP_ADDR=$SMTP_ADDR HTTP_ADDR=$HTTP_ADDR"
cd "$ROOT"
# A newcomer's empty database gets the demo data (article, videos, 90 days of downloads).
[ "$1" != serve ] || go run ./cmd/multimedia seed --demo --if-empty
if [ "$1" = serve ]; then
	# The banner waits for /healthz in the background, so it comes after the
	# server's start-up lines; it gives up when the server ($$, which exec
	# keeps) is gone.
	host=${HTTP_ADDR%:*}
	case "$host" in "" | 0.0.0.0 | "[::]") host=127.0.0.1 ;; esac
	server=$$
	(
		for ((i = 0; i < 1200; i++)); do
			kill -0 "$server" 2>/dev/null || exit 0
			if http_ok "http://$host:$port/healthz"; then
				"$SCRIPTS/dev-banner.sh" "http://localhost:$port" "http://localhost:$mailpit_port" "$tokens_file" >&2
				exit 0
			fi
			sleep 0.5
		done
	) </dev/null &
fi
exec go run ./cmd/multimedia "$@"
