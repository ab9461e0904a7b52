#!/usr/bin/env bash
# readme-check.sh: run README's shell blocks, in order, as a reader would
# after `make run`, against a fresh server of their own, and check them
# (scripts/readmecheck: exit statuses, and the shape of every reply README
# shows). `make docs-check` runs it; so does .ci/run.
#
# The server gets its own database (readme_check_<time>_<pid>, dropped
# afterwards; KEEP_README_DB=1 keeps it), its own HTTP and operator ports,
# its own Mailpit (API only, on its own ports), its own development tokens
# and a smaller demo data set than `make run`'s. README's commands are
# rewritten to use those: localhost:8080, localhost:8025 (and MAILPIT_HTTP
# for scripts/mailpit-code.sh), 127.0.0.1:9090, .dev/tokens.env, scripts/
# (the commands run in a scratch folder), the restore database's name, the
# seed's size and the development database URL. `multimedia` is the binary built from this
# tree, first on PATH. Blocks after a `<!-- readme-check: skip -->` line are
# left out (they start the server themselves, or need Docker).
#
# Env: README (README.md), README_CHECK_TIMEOUT (10m).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SCRIPTS/.." && pwd)
cd "$ROOT"
start=$(date +%s)

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
command -v python3 >/dev/null 2>&1 || apt_install python3
command -v psql >/dev/null 2>&1 || apt_install postgresql-client

PG_ADMIN_URL=$("$SCRIPTS/ensure-postgres.sh")
export PG_ADMIN_URL
# A Mailpit binary (installed once by ensure-mailpit.sh; API only is enough).
mailpit_bin=$(MAILPIT_UI=${MAILPIT_UI:-0} "$SCRIPTS/ensure-mailpit.sh" --bin)

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
taken=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		case "$taken" in *" $p "*) continue ;; esac
		tcp_open 127.0.0.1 "$p" || break
	done
	taken="$taken$p "
	printf '%s\n' "$p"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/readme-check.XXXXXX")
db=readme_check_$(date +%Y%m%d%H%M%S)_$$
server_pid= mailpit_pid=
cleanup() {
	local rc=$?
	[ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; } || true
	[ -z "$mailpit_pid" ] || kill "$mailpit_pid" 2>/dev/null || true
	if [ -n "${KEEP_README_DB:-}" ]; then
		log "keeping database $db and $work (KEEP_README_DB set)"
	else
		"$SCRIPTS/drop-db.sh" "$db" >/dev/null 2>&1 || log "could not drop database $db"
		"$SCRIPTS/drop-db.sh" "${db}_restore" >/dev/null 2>&1 || true
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

http_port=$(free_port) metrics_port=$(free_port) smtp_port=$(free_port) mailpit_port=$(free_port)

"$mailpit_bin" --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$mailpit_port" \
	--smtp-auth-accept-any --smtp-auth-allow-insecure </dev/null >"$work/mailpit.log" 2>&1 &
mailpit_pid=$!

DATABASE_URL=$("$SCRIPTS/create-db.sh" "$db" --fresh)
export DATABASE_URL
mkdir -p "$work/bin"
log "building bin/multimedia into $work/bin"
go build -o "$work/bin/multimedia" ./cmd/multimedia
export PATH="$work/bin:$PATH"
tokens=$("$SCRIPTS/dev-tokens.sh" "$work/tokens.env")
set -a
# shellcheck disable=SC1090
. "$tokens"
set +a

export HTTP_ADDR=127.0.0.1:$http_port METRICS_ADDR=127.0.0.1:$metrics_port SMTP_ADDR=127.0.0.1:$smtp_port
export LOG_FORMAT=text
# A smaller demo data set than make run's (the replies have the same shape;
# the full one makes the audit export, import and verify take minutes).
seed_flags="--accounts 300 --downloads 12000"
log "seeding a small demo data set ($seed_flags)"
# shellcheck disable=SC2086
multimedia seed --demo --if-empty $seed_flags >"$work/seed.log" 2>&1 || { cat "$work/seed.log" >&2; die "seed failed"; }
multimedia serve >"$work/server.log" 2>&1 &
server_pid=$!
for ((i = 0; i < 240; i++)); do
	http_ok "http://127.0.0.1:$http_port/healthz" && http_ok "http://127.0.0.1:$mailpit_port/api/v1/info" && break
	kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$work/server.log" >&2; die "the server exited during start"; }
	kill -0 "$mailpit_pid" 2>/dev/null || { tail -n 30 "$work/mailpit.log" >&2; mailpit_pid=; die "Mailpit exited during start"; }
	sleep 0.5
done
http_ok "http://127.0.0.1:$http_port/healthz" && http_ok "http://127.0.0.1:$mailpit_port/api/v1/info" ||
	{ tail -n 30 "$work/server.log" "$work/mailpit.log" >&2; die "the server or Mailpit did not answer within 120 s"; }
log "server on $HTTP_ADDR (operator $METRICS_ADDR), Mailpit SMTP $SMTP_ADDR HTTP 127.0.0.1:$mailpit_port, database $db"

# The reader's shell after `make run`: no tokens yet (README loads them),
# DATABASE_URL unset (the binary's default is make run's database, here
# rewritten to this run's).
dev_url=postgres://postgres@127.0.0.1:5432/multimedia?sslmode=disable
rc=0
(
	cd "$work"
	unset ADMIN_TOKEN AUDITOR_TOKEN HTTP_ADDR METRICS_ADDR SMTP_ADDR
	export DATABASE_URL MAILPIT_HTTP=127.0.0.1:$mailpit_port
	cd "$ROOT" && go run ./scripts/readmecheck -readme "${README:-README.md}" -dir "$work" \
		-timeout "${README_CHECK_TIMEOUT:-10m}" \
		-subst "localhost:8080=localhost:$http_port" \
		-subst "localhost:8025=localhost:$mailpit_port" \
		-subst "127.0.0.1:9090=127.0.0.1:$metrics_port" \
		-subst ".dev/tokens.env=$tokens" \
		-subst "scripts/=$ROOT/scripts/" \
		-subst "multimedia_restore=${db}_restore" \
		-subst "multimedia seed --demo =multimedia seed --demo $seed_flags " \
		-subst "$dev_url=$DATABASE_URL"
) || rc=$?
if [ "$rc" -ne 0 ]; then
	log "server log (last 40 lines):"
	tail -n 40 "$work/server.log" >&2 || true
fi
log "done in $(($(date +%s) - start)) s"
exit "$rc"
