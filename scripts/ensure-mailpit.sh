#!/usr/bin/env bash
# ensure-mailpit.sh: make sure Mailpit (a local SMTP sink with an HTTP API)
# answers on SMTP 127.0.0.1:1025 and HTTP 127.0.0.1:8025. Idempotent.
#
# When it does not, installs it into <repo>/.bin (go install through the Go
# module proxy, once) and starts it in the background, detached, logging to
# <repo>/.bin/mailpit.log, its pid in <repo>/.bin/mailpit.pid.
#
# Env: MAILPIT_SMTP (127.0.0.1:1025), MAILPIT_HTTP (127.0.0.1:8025),
#      MAILPIT_VERSION (v1.33.1), MAILPIT_WAIT_SECONDS (30).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=$ROOT/.bin
SMTP=${MAILPIT_SMTP:-127.0.0.1:1025}
HTTP=${MAILPIT_HTTP:-127.0.0.1:8025}
VERSION=${MAILPIT_VERSION:-v1.33.1}
WAIT=${MAILPIT_WAIT_SECONDS:-30}
MAILPIT=$BIN_DIR/mailpit

smtp_up() { tcp_open "${SMTP%:*}" "${SMTP##*:}"; }
http_up() { http_ok "http://$HTTP/api/v1/info" || http_ok "http://$HTTP/livez"; }

if smtp_up && http_up; then
	log "Mailpit already answers (SMTP $SMTP, HTTP http://$HTTP)"
	exit 0
fi
if smtp_up || tcp_open "${HTTP%:*}" "${HTTP##*:}"; then
	die "something already listens on SMTP $SMTP or HTTP $HTTP but it is not a working Mailpit; stop it first"
fi

installed_version() {
	go version -m "$MAILPIT" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/axllent/mailpit" { print $3 }'
}

if [ ! -x "$MAILPIT" ] || [ "$(installed_version)" != "$VERSION" ]; then
	command -v go >/dev/null 2>&1 || die "go not found on PATH: needed to install Mailpit"
	mkdir -p "$BIN_DIR"
	log "installing Mailpit $VERSION into $BIN_DIR (go install; first time takes a few minutes)"
	(cd "$ROOT" && GOBIN=$BIN_DIR go install "github.com/axllent/mailpit@$VERSION") >&2 ||
		die "go install github.com/axllent/mailpit@$VERSION failed"
fi

log "starting Mailpit (SMTP $SMTP, HTTP http://$HTTP), log: $BIN_DIR/mailpit.log"
# setsid + nohup: survive the calling shell/make; no inherited stdio, so a
# CI runner reading our output is never held open by the daemon.
setsid nohup "$MAILPIT" \
	--smtp "$SMTP" --listen "$HTTP" \
	--smtp-auth-accept-any --smtp-auth-allow-insecure \
	</dev/null >"$BIN_DIR/mailpit.log" 2>&1 &
pid=$!
echo "$pid" >"$BIN_DIR/mailpit.pid"

for ((i = 0; i < WAIT * 4; i++)); do
	if http_up && smtp_up; then
		log "Mailpit ready (pid $pid): SMTP $SMTP, HTTP http://$HTTP"
		exit 0
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 20 "$BIN_DIR/mailpit.log" >&2 || true
		die "Mailpit exited during start (log above)"
	fi
	sleep 0.25
done
tail -n 20 "$BIN_DIR/mailpit.log" >&2 || true
die "Mailpit did not answer within ${WAIT}s (log above)"
