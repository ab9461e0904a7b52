#!/usr/bin/env bash
# with-test-env.sh CMD [ARGS...]: provision what the tests need, run CMD in
# that environment, clean up, and exit with CMD's exit code.
#
#  - PostgreSQL (ensure-postgres.sh), Mailpit (ensure-mailpit.sh) and
#    Chromium (ensure-chromium.sh);
#  - a fresh database multimedia_test_<timestamp>_<pid>, dropped afterwards
#    (set KEEP_TEST_DB=1 to keep it for a post-mortem).
#
# CMD sees:
#   TEST_DATABASE_URL  superuser URL of that database (helpers may create
#                      further databases on the same server)
#   TEST_SMTP_ADDR     127.0.0.1:1025 (Mailpit SMTP)
#   TEST_MAILPIT_URL   http://127.0.0.1:8025 (Mailpit HTTP API)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
SCRIPTS=$(cd "$(dirname "$0")" && pwd)

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

PG_ADMIN_URL=$("$SCRIPTS/ensure-postgres.sh")
export PG_ADMIN_URL
# Tests read mail through Mailpit's API only: skip its (slow, npm-built) web
# UI here; `make run` builds it for people.
MAILPIT_UI=${MAILPIT_UI:-0} "$SCRIPTS/ensure-mailpit.sh"
# Headless Chromium for the dashboard test (httpapi TestDashboardInChromium).
CHROMIUM=$("$SCRIPTS/ensure-chromium.sh") || log "chromium unavailable: the dashboard browser test skips (fails when CI is set)"
export CHROMIUM

name=multimedia_test_$(date +%Y%m%d%H%M%S)_$$
TEST_DATABASE_URL=$("$SCRIPTS/create-db.sh" "$name" --fresh)
cleanup() {
	if [ -n "${KEEP_TEST_DB:-}" ]; then
		log "keeping database $name (KEEP_TEST_DB set)"
	else
		"$SCRIPTS/drop-db.sh" "$name" || log "could not drop database $name"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export TEST_DATABASE_URL
export TEST_SMTP_ADDR=${TEST_SMTP_ADDR:-${MAILPIT_SMTP:-127.0.0.1:1025}}
export TEST_MAILPIT_URL=${TEST_MAILPIT_URL:-http://${MAILPIT_HTTP:-127.0.0.1:8025}}
log "TEST_DATABASE_URL=$TEST_DATABASE_URL TEST_SMTP_ADDR=$TEST_SMTP_ADDR TEST_MAILPIT_URL=$TEST_MAILPIT_URL"
log "running: $*"
rc=0
"$@" || rc=$?
exit "$rc"
