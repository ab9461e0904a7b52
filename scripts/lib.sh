# shellcheck shell=bash
# Shared helpers for the provisioning scripts. Source it, do not run it.

# log prints one progress line on stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "$(basename "${0%.sh}")" "$*" >&2; }

# die prints an error line on stderr and exits 1.
die() { log "ERROR: $*"; exit 1; }

# as_root runs a command as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# apt_install installs Debian packages non-interactively, running
# `apt-get update` once per script run first.
APT_UPDATED=${APT_UPDATED:-}
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
	if [ -z "$APT_UPDATED" ]; then
		log "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		APT_UPDATED=1
	fi
	log "apt-get install -y $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# tcp_open HOST PORT succeeds when something accepts TCP connections there.
tcp_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# http_ok URL succeeds when GET URL answers 2xx. Needs no curl.
http_ok() {
	local url=$1 rest hostport host port path status
	rest=${url#http://}
	hostport=${rest%%/*}
	path=/${rest#*/}
	[ "$hostport" = "$rest" ] && path=/
	host=${hostport%%:*}
	port=${hostport##*:}
	[ "$port" = "$hostport" ] && port=80
	status=$(timeout 3 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$3" "$1" >&3
		IFS= read -r line <&3 || exit 1
		printf "%s" "$line"
	' _ "$host" "$port" "$path" 2>/dev/null) || return 1
	case "$status" in
	HTTP/1.?\ 2*) return 0 ;;
	*) return 1 ;;
	esac
}

# url_with_db URL DBNAME prints URL (a postgres:// URL or a key=value DSN)
# pointing at database DBNAME instead.
url_with_db() {
	local url=$1 db=$2
	case "$url" in
	postgres://* | postgresql://*)
		printf '%s\n' "$url" | sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\\1/$db#"
		;;
	*)
		printf '%s dbname=%s\n' "$url" "$db"
		;;
	esac
}

# admin_url prints the superuser URL of the server to use:
# PG_ADMIN_URL, else DATABASE_URL pointed at database postgres, else the
# local default.
admin_url() {
	if [ -n "${PG_ADMIN_URL:-}" ]; then
		printf '%s\n' "$PG_ADMIN_URL"
	elif [ -n "${DATABASE_URL:-}" ]; then
		url_with_db "$DATABASE_URL" postgres
	else
		printf 'postgres://postgres@%s:%s/postgres?sslmode=disable\n' "${PGHOST_LOCAL:-127.0.0.1}" "${PGPORT_LOCAL:-5432}"
	fi
}
