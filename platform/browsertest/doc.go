// Package browsertest is test support: it finds Debian's Chromium (which
// scripts/ensure-chromium.sh installs for `make test`) and opens a
// chromedp browser on it, for tests that walk a page as a person would.
//
// Without Chromium a test skips, except under CI (CI set), where it fails:
// a browser test must not pass by not running.
//
// It may import the standard library, testing and chromedp. Production code
// must not import it.
package browsertest
