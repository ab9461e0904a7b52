package httpapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/browsertest"
)

// chromiumPath finds Debian's chromium (scripts/ensure-chromium.sh installs
// it for `make test`). The test skips without it only outside CI.
func chromiumPath(t *testing.T) string { return browsertest.ChromiumPath(t) }

// runChromium runs headless Chromium with a fresh profile and a virtual
// time budget, so that it returns once the page's fetches and scripts
// have settled.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
		"--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=20000"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

var (
	attrRE = func(id, attr string) *regexp.Regexp {
		return regexp.MustCompile(`id="` + id + `"[^>]*?\s` + attr + `="([^"]*)"|` + attr + `="([^"]*)"[^>]*?\sid="` + id + `"`)
	}
	barRE = regexp.MustCompile(`<rect class="bar"[^>]*data-start="[^"]*"[^>]*data-downloads="(\d+)"`)
)

func attr(t *testing.T, dom, id, name string) string {
	t.Helper()
	m := attrRE(id, name).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no %s on #%s in the rendered page:\n%.3000s", name, id, dom)
	}
	return m[1] + m[2]
}

func TestDashboardInChromium(t *testing.T) {
	bin := chromiumPath(t)
	e := newReadEnv(t)
	// A seeded history: 4 videos, 60 accounts, downloads over 30 days.
	from := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	const days = 30
	titles := []string{"Exercise footage", "Press conference", "Summit arrivals", "Maritime patrol"}
	videos := make([]string, len(titles))
	for i, title := range titles {
		videos[i], _ = e.publishVideo(t, title, from)
	}
	r := rand.New(rand.NewPCG(5, 5))
	formats := []string{"mxf-broadcast", "mp4-1080p", "mp4-720p"}
	var (
		last  eventstore.Position
		total int
		all   []time.Time
	)
	for range 60 {
		acct := uuid.NewString()
		at := make([]time.Time, 5+r.IntN(40))
		video, format := videos[min(r.IntN(len(videos)+2), len(videos)-1)], formats[r.IntN(3)]
		for i := range at {
			at[i] = from.Add(time.Duration(r.Int64N(days * int64(24*time.Hour))))
		}
		last = e.downloads(t, acct, video, format, at...)
		total += len(at)
		all = append(all, at...)
	}
	e.wait(t, last)
	srv := httptest.NewServer(e.server)
	t.Cleanup(srv.Close)
	to := from.AddDate(0, 0, days-1)
	url := fmt.Sprintf("%s/dashboard#token=%s&from=%s&to=%s&interval=day", srv.URL, testAuditorToken, from.Format(time.DateOnly), to.Format(time.DateOnly))

	dom := string(runChromium(t, bin, "--dump-dom", url))
	if state := attr(t, dom, "status", "role"); state != "status" {
		t.Fatalf("status element missing")
	}
	if !strings.Contains(dom, `data-state="ready"`) {
		t.Fatalf("the page did not reach the ready state:\n%.3000s", dom)
	}
	if got := attr(t, dom, "total-downloads", "data-value"); got != strconv.Itoa(total) {
		t.Errorf("total shown %s, want %d", got, total)
	}
	if got := attr(t, dom, "series-svg", "data-total"); got != strconv.Itoa(total) {
		t.Errorf("chart total %s, want %d", got, total)
	}
	if got := attr(t, dom, "series-svg", "data-points"); got != strconv.Itoa(days) {
		t.Errorf("chart has %s points, want %d", got, days)
	}
	bars := barRE.FindAllStringSubmatch(dom, -1)
	sum := 0
	for _, b := range bars {
		n, _ := strconv.Atoi(b[1])
		sum += n
	}
	if len(bars) != days || sum != total {
		t.Errorf("the chart draws %d bars summing to %d; want %d bars summing to %d", len(bars), sum, days, total)
	}
	if got := attr(t, dom, "format-svg", "data-total"); got != strconv.Itoa(total) {
		t.Errorf("format split total %s, want %d", got, total)
	}
	for _, title := range titles[:2] {
		if !strings.Contains(dom, title) {
			t.Errorf("top videos do not show %q", title)
		}
	}
	if strings.Contains(dom, testAuditorToken+"&") || strings.Contains(dom, "#token=") {
		t.Error("the token is left in the page")
	}
	assertOneTotal(t, dom, total)

	// A week interval over days that are not whole weeks (Wednesday to
	// Tuesday): the series is widened to Monday..Sunday, and every figure
	// on the page (headline, chart, per format, top videos) must count the
	// same widened range, which the page shows.
	wFrom, wTo := from.AddDate(0, 0, 2), from.AddDate(0, 0, 22)
	wideFrom, wideTo := from, from.AddDate(0, 0, 27)
	inWide := 0
	for _, at := range all {
		if !at.Before(wideFrom) && at.Before(wideTo.AddDate(0, 0, 1)) {
			inWide++
		}
	}
	weekURL := fmt.Sprintf("%s/dashboard#token=%s&from=%s&to=%s&interval=week", srv.URL, testAuditorToken, wFrom.Format(time.DateOnly), wTo.Format(time.DateOnly))
	weekDom := string(runChromium(t, bin, "--dump-dom", weekURL))
	if !strings.Contains(weekDom, `data-state="ready"`) {
		t.Fatalf("the week page did not reach the ready state:\n%.3000s", weekDom)
	}
	if got := attr(t, weekDom, "total-downloads", "data-value"); got != strconv.Itoa(inWide) {
		t.Errorf("week view: headline %s, want %d (downloads from %s to %s)", got, inWide, wideFrom.Format(time.DateOnly), wideTo.Format(time.DateOnly))
	}
	assertOneTotal(t, weekDom, inWide)
	wantRange := wideFrom.Format(time.DateOnly) + " → " + wideTo.Format(time.DateOnly)
	if !strings.Contains(weekDom, wantRange) {
		t.Errorf("week view does not show the widened range %q", wantRange)
	}

	// A screenshot as a test artefact (testdata/artefacts is gitignored).
	dir := filepath.Join("testdata", "artefacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := filepath.Abs(filepath.Join(dir, "dashboard.png"))
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(png)
	runChromium(t, bin, "--window-size=1360,1040", "--screenshot="+png, url)
	st, err := os.Stat(png)
	if err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (size %d)", png, err, sizeOf(st))
	}
	t.Logf("screenshot saved to %s (%d bytes); %d downloads drawn", png, st.Size(), total)
}

var topRowRE = regexp.MustCompile(`<tr data-video-id="[^"]*" data-downloads="(\d+)"`)

// assertOneTotal fails unless every total the dashboard draws (headline,
// time-series chart, per-format chart and its note, the top-videos rows,
// which here cover every video) equals want.
func assertOneTotal(t *testing.T, dom string, want int) {
	t.Helper()
	w := strconv.Itoa(want)
	for _, c := range [][2]string{{"total-downloads", "data-value"}, {"series-svg", "data-total"}, {"format-svg", "data-total"}, {"format-total", "data-value"}} {
		if got := attr(t, dom, c[0], c[1]); got != w {
			t.Errorf("#%s %s = %s, want %s (one range, one total on the page)", c[0], c[1], got, w)
		}
	}
	sum := 0
	for _, m := range topRowRE.FindAllStringSubmatch(dom, -1) {
		n, _ := strconv.Atoi(m[1])
		sum += n
	}
	if sum != want {
		t.Errorf("top videos sum to %d, want %d", sum, want)
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}

func TestDashboardAssets(t *testing.T) {
	e := newReadEnv(t)
	for path, ctype := range map[string]string{"/dashboard": "text/html", "/dashboard/app.js": "text/javascript", "/dashboard/style.css": "text/css"} {
		rec := doRequest(t, e.server, http.MethodGet, path, "", nil)
		wantStatus(t, rec, http.StatusOK)
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, ctype) {
			t.Errorf("%s: Content-Type %q", path, got)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.Contains(rec.Body.String(), "https://") {
			t.Errorf("%s loads something from another origin", path)
		}
	}
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/dashboard/missing.js", "", nil), http.StatusNotFound)
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/dashboard/dashboard.go", "", nil), http.StatusNotFound)
	if rec := doRequest(t, e.server, http.MethodGet, "/dashboard/..%2fserver.go", "", nil); rec.Code == http.StatusOK {
		t.Errorf("a path outside the dashboard is served: %.200s", rec.Body)
	}
}
