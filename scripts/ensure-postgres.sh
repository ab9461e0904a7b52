#!/usr/bin/env bash
# ensure-postgres.sh: make sure a PostgreSQL server answers, installing and
# starting a local one when needed (Debian). Idempotent.
#
# Prints on stdout one line: a superuser URL of the server (database
# "postgres"), e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
# Progress goes to stderr.
#
# Order of preference:
#  1. $DATABASE_URL, when set and its server answers (and lets us in);
#  2. a server already answering on 127.0.0.1:5432 (PGHOST_LOCAL/PGPORT_LOCAL);
#  3. an installed Debian cluster (/etc/postgresql/*/main), started here;
#  4. apt-get install postgresql, then create/start its cluster.
# When this script starts or installs the local cluster, or when connecting
# to it as postgres fails, it switches the 127.0.0.1/::1 host lines of
# pg_hba.conf to trust (a dev/CI machine only) and reloads.
#
# Env: DATABASE_URL, PGHOST_LOCAL (127.0.0.1), PGPORT_LOCAL (5432),
#      PG_WAIT_SECONDS (30).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

HOST=${PGHOST_LOCAL:-127.0.0.1}
PORT=${PGPORT_LOCAL:-5432}
WAIT=${PG_WAIT_SECONDS:-30}
LOCAL_URL="postgres://postgres@$HOST:$PORT/postgres?sslmode=disable"

ensure_client() {
	if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
		log "PostgreSQL client tools missing: installing postgresql-client"
		apt_install postgresql-client
	fi
}

ready() { pg_isready -q -t 3 -d "$1" >/dev/null 2>&1; }
can_login() { PGCONNECT_TIMEOUT=5 psql -X -w -q -At -d "$1" -c 'select 1' >/dev/null 2>&1; }

wait_ready() {
	local url=$1 i
	for ((i = 0; i < WAIT; i++)); do
		if ready "$url"; then
			return 0
		fi
		sleep 1
	done
	return 1
}

# local_cluster prints "VERSION NAME" of the installed cluster listening on
# $PORT, else of the newest installed "main" cluster; nothing when none.
local_cluster() {
	local ver name port
	if command -v pg_lsclusters >/dev/null 2>&1; then
		while read -r ver name port _; do
			if [ "$port" = "$PORT" ]; then
				echo "$ver $name"
				return 0
			fi
		done < <(pg_lsclusters -h 2>/dev/null)
	fi
	local dir
	dir=$(ls -d /etc/postgresql/*/main 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$dir" ]; then
		ver=$(basename "$(dirname "$dir")")
		echo "$ver main"
	fi
}

cluster_port() { pg_lsclusters -h 2>/dev/null | awk -v v="$1" -v n="$2" '$1 == v && $2 == n { print $3 }'; }

# trust_local_tcp VER NAME switches the loopback host lines of the cluster's
# pg_hba.conf to trust and reloads when anything changed.
trust_local_tcp() {
	local ver=$1 name=$2 hba
	hba=/etc/postgresql/$ver/$name/pg_hba.conf
	[ -f "$hba" ] || die "no $hba: cannot allow local TCP logins as postgres"
	local re_v4='^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+'
	local re_v6='^host[[:space:]]+all[[:space:]]+all[[:space:]]+::1/128[[:space:]]+'
	if grep -Eq "${re_v4}trust([[:space:]]|\$)" "$hba" && grep -Eq "${re_v6}trust([[:space:]]|\$)" "$hba"; then
		log "pg_hba.conf of $ver/$name already trusts 127.0.0.1 and ::1"
		return 0
	fi
	as_root cp -p "$hba" "$hba.bak"
	as_root sed -E -i \
		-e "s#(${re_v4})[^[:space:]]+#\\1trust#" \
		-e "s#(${re_v6})[^[:space:]]+#\\1trust#" "$hba"
	# No loopback host line at all: put ours first (first match wins).
	if ! grep -Eq "${re_v4}trust" "$hba" || ! grep -Eq "${re_v6}trust" "$hba"; then
		as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
	fi
	log "switched 127.0.0.1/::1 host lines of $hba to trust (backup: $hba.bak); reloading"
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >&2
}

start_cluster() {
	local ver=$1 name=$2
	log "starting cluster $ver/$name: pg_ctlcluster --skip-systemctl-redirect $ver $name start"
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 || {
		# "already running" also fails; anything else is reported by wait below.
		log "pg_ctlcluster start returned non-zero (already running?)"
	}
}

finish() {
	local url=$1
	wait_ready "$url" || die "PostgreSQL at ${url%%\?*} did not become ready within ${WAIT}s"
	local i
	for ((i = 0; ; i++)); do
		can_login "$url" && break
		# a reload of pg_hba.conf takes effect asynchronously
		[ "$i" -lt 10 ] || die "PostgreSQL at $(redact "${url%%\?*}") answers but refuses login"
		sleep 0.5
	done
	log "PostgreSQL ready at $(redact "$url")"
	printf '%s\n' "$url"
	exit 0
}

# redact hides a password in a URL for logging.
redact() { printf '%s' "$1" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }

ensure_client

# 1. DATABASE_URL
if [ -n "${DATABASE_URL:-}" ]; then
	url=$(url_with_db "$DATABASE_URL" postgres)
	if ready "$DATABASE_URL"; then
		if can_login "$url"; then
			log "using the server of DATABASE_URL ($(redact "$url"))"
			finish "$url"
		fi
		log "server of DATABASE_URL answers but database postgres refuses the login; trying the local server"
	else
		log "server of DATABASE_URL does not answer; trying the local server at $HOST:$PORT"
	fi
fi

# 2. Something answers locally already.
if ready "$LOCAL_URL"; then
	if can_login "$LOCAL_URL"; then
		log "PostgreSQL already answers at $HOST:$PORT"
		finish "$LOCAL_URL"
	fi
	read -r ver name < <(local_cluster) || true
	[ -n "${ver:-}" ] || die "a server answers at $HOST:$PORT but refuses login as postgres, and it is no local Debian cluster I can configure"
	log "a server answers at $HOST:$PORT but refuses login as postgres without password"
	trust_local_tcp "$ver" "$name"
	finish "$LOCAL_URL"
fi

# 3./4. Start an installed cluster, installing PostgreSQL first when needed.
read -r ver name < <(local_cluster) || true
if [ -z "${ver:-}" ]; then
	if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
		log "no PostgreSQL server installed: installing Debian's postgresql"
		apt_install postgresql
	fi
	read -r ver name < <(local_cluster) || true
	if [ -z "${ver:-}" ]; then
		ver=$(ls -d /usr/lib/postgresql/*/bin/postgres | sed -E 's#/usr/lib/postgresql/([^/]+)/.*#\1#' | sort -V | tail -n 1)
		name=main
		log "creating cluster $ver/$name on port $PORT"
		as_root pg_createcluster --port "$PORT" "$ver" "$name" >&2
	fi
fi

port=$(cluster_port "$ver" "$name")
if [ -n "$port" ] && [ "$port" != "$PORT" ]; then
	log "cluster $ver/$name is configured for port $port, not $PORT: using port $port"
	PORT=$port
	LOCAL_URL="postgres://postgres@$HOST:$PORT/postgres?sslmode=disable"
fi

start_cluster "$ver" "$name"
wait_ready "$LOCAL_URL" || die "cluster $ver/$name did not answer on $HOST:$PORT within ${WAIT}s (see /var/log/postgresql/postgresql-$ver-$name.log)"
if ! can_login "$LOCAL_URL"; then
	trust_local_tcp "$ver" "$name"
else
	log "login as postgres over TCP works without password"
fi
finish "$LOCAL_URL"
