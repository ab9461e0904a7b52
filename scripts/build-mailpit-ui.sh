#!/usr/bin/env bash
# build-mailpit-ui.sh: build Mailpit WITH its web UI into <repo>/.bin/mailpit.
#
# `go install github.com/axllent/mailpit@VERSION` gives a binary whose HTTP
# API works but whose web page is blank: the UI assets (server/ui/dist,
# embedded with go:embed) are built with npm upstream and are not part of the
# Go module. This script copies the module source into a writable build dir
# under <repo>/.bin, builds the assets (npm ci + npm run build, through the
# npm registry only; no install scripts, no Playwright browser download),
# then `go build`s the binary with them embedded.
#
# On success: <repo>/.bin/mailpit replaced, marker <repo>/.bin/mailpit.ui
# written (holds VERSION), build dir removed (MAILPIT_KEEP_BUILD=1 keeps it).
# On failure: exit status non-zero, <repo>/.bin/mailpit left untouched;
# ensure-mailpit.sh then falls back to the API-only `go install`.
#
# Usage: scripts/build-mailpit-ui.sh [VERSION]   (default MAILPIT_VERSION or v1.33.1)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=$ROOT/.bin
VERSION=${1:-${MAILPIT_VERSION:-v1.33.1}}
MODULE=github.com/axllent/mailpit
BUILD_DIR=$BIN_DIR/mailpit-build/mailpit-$VERSION
MARKER=$BIN_DIR/mailpit.ui

command -v go >/dev/null 2>&1 || die "go not found on PATH"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH: needed to build the Mailpit web UI"
command -v node >/dev/null 2>&1 || die "node not found on PATH: needed to build the Mailpit web UI"

# Outside any workspace/module of ours: the copy is its own main module.
export GOWORK=off GOFLAGS=${MAILPIT_GOFLAGS:-}
# Never fetch browsers or run package install scripts.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1

start=$(date +%s)
mkdir -p "$BIN_DIR"

modcache=$(go env GOMODCACHE)
src=$modcache/$MODULE@$VERSION
if [ ! -f "$src/go.mod" ]; then
	log "downloading $MODULE@$VERSION (Go module proxy)"
	(cd "$BIN_DIR" && go mod download "$MODULE@$VERSION") >&2 ||
		die "go mod download $MODULE@$VERSION failed"
fi
[ -f "$src/package-lock.json" ] || die "$src has no package-lock.json: cannot build the UI"

log "copying $MODULE@$VERSION source into $BUILD_DIR"
rm -rf "$BUILD_DIR"
mkdir -p "$(dirname "$BUILD_DIR")"
cp -R "$src" "$BUILD_DIR"
chmod -R u+w "$BUILD_DIR"

cd "$BUILD_DIR"
# --omit=peer: skips sass-embedded (an optional alternative to sass for
# esbuild-sass-plugin) and lint-only peers; the build needs neither.
npm_flags=(--ignore-scripts --no-audit --no-fund --omit=peer --loglevel=error)
log "npm ci (npm registry; --ignore-scripts, no Playwright browsers)"
# npm's own output goes to a file first: the known failure below (rapidoc
# missing, a page of npm 404 errors) is expected and harmless, and a
# newcomer should not have to read it; any other failure is shown in full.
npm_log=$BIN_DIR/mailpit-npm-ci.log
if npm ci "${npm_flags[@]}" >"$npm_log" 2>&1; then
	cat "$npm_log" >&2
else
	# The registry may lack a locked version. The one known case: rapidoc
	# ^12 (npm registry mirrors without it), used only by the API docs page
	# (/api/v1/, server/ui-src/docs.js), not by the mail UI. Retry without it,
	# resolving from the lockfile where it can, and stub that page.
	if grep -qi 'rapidoc' "$npm_log" && grep -Eqi 'E404|404 Not Found' "$npm_log"; then
		log "npm ci: this npm registry has no rapidoc (404; npm's output in $npm_log). This is expected and harmless:" \
			"rapidoc is only Mailpit's API docs viewer. Retrying without it (the page at /api/v1/ gets a stub; the mail UI is unaffected)"
	else
		cat "$npm_log" >&2
		log "npm ci failed (output above): retrying with npm install, without rapidoc (the API docs page at /api/v1/ gets a stub;" \
			"the mail UI is unaffected)"
	fi
	rm -rf node_modules
	npm pkg delete dependencies.rapidoc >&2
	npm install "${npm_flags[@]}" >&2 || die "npm install failed"
	cat >server/ui-src/docs.js <<'JS'
// Stub written by build-mailpit-ui.sh: rapidoc (the API docs viewer) was not
// available from the npm registry when this Mailpit was built.
document.addEventListener("DOMContentLoaded", () => {
	const doc = document.getElementById("thedoc");
	const note = document.createElement("p");
	note.style.cssText = "font-family: system-ui, sans-serif; margin: 2em;";
	note.innerHTML =
		'API docs viewer not included in this build. OpenAPI spec: <a href="swagger.json">swagger.json</a>; ' +
		'<a href="../../">back to Mailpit</a>.';
	if (doc) doc.replaceWith(note);
	else document.body.prepend(note);
});
JS
fi

log "npm run build (UI assets into server/ui/dist)"
npm run build >&2 || die "npm run build failed"
[ -s server/ui/dist/app.js ] && [ -s server/ui/dist/app.css ] ||
	die "npm run build produced no server/ui/dist/app.js / app.css"

log "go build (UI embedded)"
tmp=$BIN_DIR/mailpit.new.$$
trap 'rm -f "$tmp"' EXIT
trap 'exit 143' TERM INT
CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X $MODULE/config.Version=$VERSION" \
	-o "$tmp" . >&2 || die "go build failed"

mv -f "$tmp" "$BIN_DIR/mailpit"
printf '%s\n' "$VERSION" >"$MARKER"
rm -f "$BIN_DIR/mailpit.ui-failed"

cd "$BIN_DIR"
if [ "${MAILPIT_KEEP_BUILD:-}" != 1 ]; then
	rm -rf "$BIN_DIR/mailpit-build"
fi
log "built Mailpit $VERSION with its web UI into $BIN_DIR/mailpit in $(($(date +%s) - start))s"
