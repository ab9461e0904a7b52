#!/usr/bin/env bash
# create-db.sh NAME [--fresh]: create database NAME on the PostgreSQL server
# (when missing) and print its URL on stdout. With --fresh, drop it first
# (DROP DATABASE ... WITH (FORCE), ending its connections).
#
# The server is PG_ADMIN_URL (a superuser URL, as printed by
# ensure-postgres.sh), else DATABASE_URL's server, else
# postgres://postgres@127.0.0.1:5432. Run ensure-postgres.sh first.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() { echo "usage: $0 NAME [--fresh]" >&2; exit 2; }

name= fresh=
for arg in "$@"; do
	case "$arg" in
	--fresh) fresh=1 ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) [ -z "$name" ] || usage; name=$arg ;;
	esac
done
[ -n "$name" ] || usage
[[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name '$name' must match ^[a-z_][a-z0-9_]{0,62}\$"

admin=$(admin_url)
sql() { PGOPTIONS="-c client_min_messages=warning" PGCONNECT_TIMEOUT=10 psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$admin" -c "$1"; }
exists() { [ "$(sql "select 1 from pg_database where datname = '$name'")" = 1 ]; }

if [ -n "$fresh" ]; then
	log "dropping database $name (if it exists)"
	sql "drop database if exists \"$name\" with (force)" >&2
fi
if exists; then
	log "database $name exists"
elif sql "create database \"$name\"" >&2; then
	log "created database $name"
elif exists; then
	log "database $name exists (created concurrently)"
else
	die "could not create database $name"
fi
url_with_db "$admin" "$name"
