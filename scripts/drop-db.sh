#!/usr/bin/env bash
# drop-db.sh NAME: drop database NAME if it exists, ending its connections
# (WITH (FORCE)). Same server selection as create-db.sh.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 NAME" >&2; exit 2; }
name=$1
[[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name '$name' must match ^[a-z_][a-z0-9_]{0,62}\$"
case "$name" in postgres | template0 | template1) die "refusing to drop $name" ;; esac

PGOPTIONS="-c client_min_messages=warning" PGCONNECT_TIMEOUT=10 psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$(admin_url)" \
	-c "drop database if exists \"$name\" with (force)" >&2
log "dropped database $name (if it existed)"
