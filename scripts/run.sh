#!/usr/bin/env bash
# run.sh [ARGS...]: provision PostgreSQL and Mailpit, create the database
# (DB_NAME, default multimedia; or the one named by DATABASE_URL when set)
# if missing, then `go run ./cmd/multimedia ARGS` (default: serve) with
# DATABASE_URL, SMTP_ADDR and HTTP_ADDR set.
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
echo "Open http://localhost:$port/dashboard (analysts), http://localhost:$port/openapi.yaml (the API), http://localhost:$port/readyz ... Mailpit (the codes): http://localhost:$mailpit_port" >&2
[ -f "$ROOT/.bin/mailpit.ui" ] || log "note: this Mailpit has no web UI; read mail at http://localhost:$mailpit_port/api/v1/messages"
log "DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#') SMTP_ADDR=$SMTP_ADDR HTTP_ADDR=$HTTP_ADDR"
cd "$ROOT"
# A newcomer's empty database gets the demo data (article, videos, 90 days of downloads).
[ "$1" != serve ] || go run ./cmd/multimedia seed --demo --if-empty
exec go run ./cmd/multimedia "$@"
