#!/usr/bin/env bash
# with-test-env.sh CMD [ARGS...]: provision what the tests need, run CMD in
# that environment, clean up, and exit with CMD's exit code.
#
#  - PostgreSQL (ensure-postgres.sh), a test Mailpit (ensure-mailpit.sh) of
#    its own on 127.0.0.1:1026 (SMTP) / 127.0.0.1:8026 (HTTP), apart from the
#    development Mailpit on 1025/8025 so that tests never fill the inbox
#    `make run` uses (TEST_MAILPIT_SMTP / TEST_MAILPIT_HTTP move it), and
#    Chromium (ensure-chromium.sh);
#  - a fresh database multimedia_test_<timestamp>_<pid>, dropped afterwards
#    (set KEEP_TEST_DB=1 to keep it for a post-mortem).
#
# CMD sees:
#   TEST_DATABASE_URL  superuser URL of that database (helpers may create
#                      further databases on the same server)
#   TEST_SMTP_ADDR     127.0.0.1:1026 (the test Mailpit's SMTP)
#   TEST_MAILPIT_URL   http://127.0.0.1:8026 (the test Mailpit's HTTP API)
#   MAILPIT_BIN        the Mailpit binary, for tests that stop and start a
#                      Mailpit: they run their OWN on free ports and never
#                      stop the shared one (see mail/mailpit.StartOwn)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
SCRIPTS=$(cd "$(dirname "$0")" && pwd)

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

PG_ADMIN_URL=$("$SCRIPTS/ensure-postgres.sh")
export PG_ADMIN_URL
# Tests read mail through Mailpit's API only: skip its (slow, npm-built) web
# UI here; `make run` builds it for people.
TEST_MAILPIT_SMTP=${TEST_MAILPIT_SMTP:-127.0.0.1:1026}
TEST_MAILPIT_HTTP=${TEST_MAILPIT_HTTP:-127.0.0.1:8026}
MAILPIT_BIN=$(MAILPIT_UI=${MAILPIT_UI:-0} "$SCRIPTS/ensure-mailpit.sh" --bin)
export MAILPIT_BIN
MAILPIT_SMTP=$TEST_MAILPIT_SMTP MAILPIT_HTTP=$TEST_MAILPIT_HTTP "$SCRIPTS/ensure-mailpit.sh"
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
export TEST_SMTP_ADDR=$TEST_MAILPIT_SMTP
export TEST_MAILPIT_URL=http://$TEST_MAILPIT_HTTP
log "TEST_DATABASE_URL=$TEST_DATABASE_URL TEST_SMTP_ADDR=$TEST_SMTP_ADDR TEST_MAILPIT_URL=$TEST_MAILPIT_URL MAILPIT_BIN=$MAILPIT_BIN"
log "running: $*"
rc=0
"$@" || rc=$?
exit "$rc"
