package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath returns the Chromium binary: $CHROMIUM, or chromium,
// chromium-browser or google-chrome on PATH. It skips the test when none is
// found, or fails it when CI is set.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, c := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; run scripts/ensure-chromium.sh (make test does)")
	}
	t.Skip("chromium is not installed and CI is not set: run scripts/ensure-chromium.sh to enable the browser tests")
	return ""
}

// New starts a headless Chromium with a fresh profile and a window of the
// given size, and returns a chromedp context on its first tab. The browser
// ends with the test (or with cancel).
func New(t testing.TB, parent context.Context, width, height int) (ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	bin := ChromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-quic", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	cancel = func() { cancelCtx(); cancelAlloc() }
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		t.Fatalf("start chromium %s: %v", bin, err)
	}
	return ctx, cancel
}

// Isolated opens a tab in a new browser context of the browser ctx runs
// (its own cookies and storage, like a private window) and returns its
// chromedp context. The tab closes with the test.
func Isolated(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open an isolated tab: %v", err)
	}
	return tab
}

// ArtefactDir returns dir (created), for screenshots a test keeps.
func ArtefactDir(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o755)
	}
	if err != nil {
		t.Fatalf("artefact directory %s: %v", dir, err)
	}
	return abs
}
