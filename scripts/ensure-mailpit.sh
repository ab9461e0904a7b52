#!/usr/bin/env bash
# ensure-mailpit.sh: make sure Mailpit (a local SMTP sink with an HTTP API)
# answers on SMTP 127.0.0.1:1025 and HTTP 127.0.0.1:8025 (or MAILPIT_SMTP /
# MAILPIT_HTTP). Idempotent.
#
# When it does not, installs it into <repo>/.bin (once) and starts it in the
# background, detached, logging to <repo>/.bin/mailpit.log, its pid in
# <repo>/.bin/mailpit.pid (mailpit-<smtp port>.log / .pid for other ports,
# so the development and the test Mailpit keep apart).
#
# ensure-mailpit.sh --bin: install only (start nothing) and print the path
# of the binary on stdout; tests that stop and start a Mailpit of their own
# get it as MAILPIT_BIN (scripts/with-test-env.sh).
#
# Install: scripts/build-mailpit-ui.sh builds Mailpit from the module source
# WITH its web UI (npm registry + Go module proxy; marker .bin/mailpit.ui).
# A plain `go install` gives a blank web page (the UI assets are not in the Go
# module), so that is only the fallback when the UI build fails; the failure
# is remembered in .bin/mailpit.ui-failed (delete it to retry) so later runs
# do not pay for it again. Never fails because of the UI.
#
# Env: MAILPIT_SMTP (127.0.0.1:1025), MAILPIT_HTTP (127.0.0.1:8025),
#      MAILPIT_BIN (a Mailpit binary to use instead of installing one),
#      MAILPIT_VERSION (v1.33.1), MAILPIT_WAIT_SECONDS (30),
#      MAILPIT_UI (1; 0 = API-only go install, force = retry a failed UI build),
#      MAILPIT_UI_TIMEOUT (900, seconds for the UI build).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=$ROOT/.bin
SMTP=${MAILPIT_SMTP:-127.0.0.1:1025}
HTTP=${MAILPIT_HTTP:-127.0.0.1:8025}
VERSION=${MAILPIT_VERSION:-v1.33.1}
WAIT=${MAILPIT_WAIT_SECONDS:-30}
# A git worktree without its own Mailpit uses the main checkout's, if any,
# rather than building another one.
if [ -z "${MAILPIT_BIN:-}" ] && [ ! -x "$BIN_DIR/mailpit" ]; then
	common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [ -n "$common" ] && [ -x "$(dirname "$common")/.bin/mailpit" ] && [ "$(dirname "$common")" != "$ROOT" ]; then
		MAILPIT_BIN=$(dirname "$common")/.bin/mailpit
		log "using the main checkout's Mailpit: $MAILPIT_BIN"
	fi
fi
MAILPIT=${MAILPIT_BIN:-$BIN_DIR/mailpit}
if [ "${SMTP##*:}" = 1025 ] && [ "$HTTP" = 127.0.0.1:8025 ]; then
	RUN_NAME=mailpit
else
	RUN_NAME=mailpit-${SMTP##*:}
fi
ONLY_BIN=
[ "${1:-}" = --bin ] && ONLY_BIN=1
UI=${MAILPIT_UI:-1}
UI_TIMEOUT=${MAILPIT_UI_TIMEOUT:-900}
UI_MARKER=$BIN_DIR/mailpit.ui
UI_FAILED=$BIN_DIR/mailpit.ui-failed

smtp_up() { tcp_open "${SMTP%:*}" "${SMTP##*:}"; }
http_up() { http_ok "http://$HTTP/api/v1/info" || http_ok "http://$HTTP/livez"; }

if [ -z "$ONLY_BIN" ]; then
	if smtp_up && http_up; then
		log "Mailpit already answers (SMTP $SMTP, HTTP http://$HTTP)"
		exit 0
	fi
	if smtp_up || tcp_open "${HTTP%:*}" "${HTTP##*:}"; then
		die "something already listens on SMTP $SMTP or HTTP $HTTP but it is not a working Mailpit; stop it first"
	fi
fi

installed_version() {
	go version -m "$MAILPIT" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/axllent/mailpit" { print $3 }'
}
# ui_built: .bin/mailpit is VERSION built with its web UI (build-mailpit-ui.sh).
ui_built() { [ -x "$MAILPIT" ] && [ "$(cat "$UI_MARKER" 2>/dev/null)" = "$VERSION" ]; }
# api_only_current: .bin/mailpit is VERSION from `go install` (no web UI).
api_only_current() { [ -x "$MAILPIT" ] && [ "$(installed_version)" = "$VERSION" ]; }

go_install() {
	command -v go >/dev/null 2>&1 || die "go not found on PATH: needed to install Mailpit"
	mkdir -p "$BIN_DIR"
	log "installing Mailpit $VERSION into $BIN_DIR (go install, API only; first time takes a few minutes)"
	(cd "$ROOT" && GOBIN=$BIN_DIR go install "github.com/axllent/mailpit@$VERSION") >&2 ||
		die "go install github.com/axllent/mailpit@$VERSION failed"
	rm -f "$UI_MARKER"
}

if [ -n "${MAILPIT_BIN:-}" ]; then
	[ -x "$MAILPIT_BIN" ] || die "MAILPIT_BIN=$MAILPIT_BIN is not an executable file"
elif ui_built; then
	: # Mailpit $VERSION with its web UI: nothing to build
elif [ "$UI" = 0 ]; then
	api_only_current || go_install
	log "MAILPIT_UI=0: Mailpit without its web UI (API only; the page at http://$HTTP is blank)"
elif api_only_current && [ "$(cat "$UI_FAILED" 2>/dev/null)" = "$VERSION" ] && [ "$UI" != force ]; then
	log "WARNING: Mailpit web UI build failed before: using the API-only Mailpit (page at http://$HTTP is blank);" \
		"to retry: rm $UI_FAILED (or MAILPIT_UI=force)"
else
	mkdir -p "$BIN_DIR"
	log "building Mailpit $VERSION with its web UI (npm + go build; first time takes a few minutes)"
	if timeout "$UI_TIMEOUT" "$ROOT/scripts/build-mailpit-ui.sh" "$VERSION" >&2; then
		rm -f "$UI_FAILED"
	else
		printf '%s\n' "$VERSION" >"$UI_FAILED"
		log "WARNING: could not build Mailpit's web UI (output above; time limit ${UI_TIMEOUT}s):" \
			"falling back to the API-only go install; the page at http://$HTTP will be blank." \
			"To retry: rm $UI_FAILED (or MAILPIT_UI=force) and stop Mailpit"
		if api_only_current; then rm -f "$UI_MARKER"; else go_install; fi
	fi
fi

if [ -n "$ONLY_BIN" ]; then
	printf '%s\n' "$MAILPIT"
	exit 0
fi

LOG_FILE=$BIN_DIR/$RUN_NAME.log
mkdir -p "$BIN_DIR"
log "starting Mailpit (SMTP $SMTP, HTTP http://$HTTP), log: $LOG_FILE"
# setsid + nohup: survive the calling shell/make; no inherited stdio, so a
# CI runner reading our output is never held open by the daemon.
setsid nohup "$MAILPIT" \
	--smtp "$SMTP" --listen "$HTTP" \
	--smtp-auth-accept-any --smtp-auth-allow-insecure \
	</dev/null >"$LOG_FILE" 2>&1 &
pid=$!
echo "$pid" >"$BIN_DIR/$RUN_NAME.pid"

for ((i = 0; i < WAIT * 4; i++)); do
	if http_up && smtp_up; then
		log "Mailpit ready (pid $pid): SMTP $SMTP, HTTP http://$HTTP"
		exit 0
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 20 "$LOG_FILE" >&2 || true
		die "Mailpit exited during start (log above)"
	fi
	sleep 0.25
done
tail -n 20 "$LOG_FILE" >&2 || true
die "Mailpit did not answer within ${WAIT}s (log above)"
