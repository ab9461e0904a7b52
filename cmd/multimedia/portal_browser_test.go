package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/platform/browsertest"
)

const portalAdminToken = "portal-test-admin-token-0123456789"

// TestPortalInChromium walks the people's page in Debian's Chromium against
// the real `serve` wiring (Postgres, projectors, mail through Mailpit): the
// whole account journey, by the controls' visible words, with screenshots
// in testdata/artefacts/portal. The same register and verify steps run
// again 360 px wide.
func TestPortalInChromium(t *testing.T) {
	browsertest.ChromiumPath(t)
	// The download URLs point at this file server, so that the browser
	// really downloads something.
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="clip.bin"`)
		_, _ = w.Write([]byte("demo video " + r.URL.Path))
	}))
	t.Cleanup(files.Close)
	base, _ := startServe(t, map[string]string{"ADMIN_TOKEN": portalAdminToken, "DOWNLOAD_BASE_URL": files.URL + "/videos/"})
	slug := publishPortalContent(t, base)
	shots := browsertest.ArtefactDir(t, filepath.Join("testdata", "artefacts", "portal"))

	browserCtx, _ := browsertest.New(t, context.Background(), 1280, 900)

	t.Run("journey at 1280 px", func(t *testing.T) {
		p := &portalPage{t: t, ctx: browserCtx, base: base, shots: shots, width: 1280}
		p.journey(slug)
	})
	t.Run("register and verify at 360 px", func(t *testing.T) {
		p := &portalPage{t: t, ctx: browsertest.Isolated(t, browserCtx), base: base, shots: shots, width: 360}
		email := mailpit.UniqueAddress("portal-narrow", "example.com")
		const pw = "Harbour-Lights-2026!"
		// Headless Chromium's window is at least 500 px wide: emulate a
		// 360 px phone screen.
		p.do("a 360 px screen", chromedp.EmulateViewport(360, 740))
		p.open("/register")
		p.register(email, pw, "narrow-")
		p.noSideScroll()
		// Back at /verify on another visit (the link in a mail, a reload):
		// the page no longer holds the password, so it asks for it.
		p.open("/verify?email=" + url.QueryEscape(email))
		p.do("the password field", chromedp.WaitVisible(fieldOf("Password")), chromedp.WaitVisible(fieldOf("Verification code")))
		p.do("a new code too early", chromedp.Click(button("Send new code")))
		if msg := p.message("info"); !strings.Contains(msg, "You can send a new code at") {
			t.Errorf("asking for a new code within the minute says %q", msg)
		}
		p.fill("Password", pw)
		p.verify(email, "narrow-")
		p.noSideScroll()
	})
}

// publishPortalContent publishes the seed page's article and two videos
// through the editors' API and returns the article's slug.
func publishPortalContent(t *testing.T, base string) string {
	t.Helper()
	st, body := call(t, "POST", base+"/api/admin/articles", portalAdminToken, map[string]any{
		"title": demoArticleTitle, "summary": demoArticleSummary, "body": demoArticleBody, "tags": demoArticleTags})
	if st != http.StatusCreated {
		t.Fatalf("publish the article: %d %v", st, body)
	}
	slug, _ := body["slug"].(string)
	for _, v := range []map[string]any{
		{"title": "Foreign Ministers in Oslo: arrivals", "description": "26-27 April", "duration_seconds": 185,
			"formats": []map[string]any{{"format": "mxf-broadcast", "size_bytes": 1156250000}, {"format": "mp4-1080p", "size_bytes": 185000000}, {"format": "mp4-720p", "size_bytes": 92500000}}},
		{"title": "Missile defence briefing", "description": "NATO Headquarters, 19 April", "duration_seconds": 754,
			"formats": []map[string]any{{"format": "mp4-1080p", "size_bytes": 754000000}}},
	} {
		st, body := call(t, "POST", base+"/api/admin/videos", portalAdminToken, v)
		if st != http.StatusCreated {
			t.Fatalf("publish a video: %d %v", st, body)
		}
	}
	// The page reads the read models: wait until both videos are listed.
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, body := call(t, "GET", base+"/api/videos", "", nil)
		if list, _ := body["videos"].([]any); st == http.StatusOK && len(list) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the videos are not listed: %d %v", st, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return slug
}

// portalPage drives one browser tab through the page, finding controls by
// the words a person sees.
type portalPage struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	width int
}

// do runs the steps with a deadline; on failure it saves a screenshot and
// fails the test.
func (p *portalPage) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	// Generous: the machine the tests share may be very busy.
	ctx, cancel := context.WithTimeout(p.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.shot("failed-" + strings.NewReplacer(" ", "-", "/", "_", "?", "_").Replace(what))
		html, _ := p.run(`document.querySelector("main") ? document.querySelector("main").innerText : ""`)
		p.t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, html)
	}
}

func (p *portalPage) run(js string) (string, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](js))
}

func (p *portalPage) eval(js string) string {
	p.t.Helper()
	v, err := p.run(js)
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// shot saves a full-page screenshot as a test artefact.
func (p *portalPage) shot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(p.shots, fmt.Sprintf("%d-%s.png", p.width, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

func xq(s string) string { // an XPath string literal
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "concat(\"" + strings.ReplaceAll(s, `"`, `", '"', "`) + "\")"
}

func button(words string) string { return "//button[normalize-space()=" + xq(words) + "]" }
func link(words string) string   { return "//a[normalize-space()=" + xq(words) + "]" }
func heading(words string) string {
	return "//h1[normalize-space()=" + xq(words) + "]"
}
func text(words string) string { return "//main//*[contains(normalize-space(), " + xq(words) + ")]" }

// fieldOf is the input that the label with these words names.
func fieldOf(label string) string {
	return "//input[@id=//label[normalize-space()=" + xq(label) + "]/@for]"
}

func (p *portalPage) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path), chromedp.WaitVisible("//main//h1"))
}

func (p *portalPage) fill(label, value string) {
	p.t.Helper()
	p.do("find "+label, chromedp.WaitVisible(fieldOf(label)))
	q, _ := json.Marshal(label)
	if got := p.eval(`(() => { const l = [...document.querySelectorAll("main label")].find((l) => l.textContent.trim() === ` + string(q) + `);
		const i = l && document.getElementById(l.htmlFor); if (!i) return "missing"; i.value = ""; return "ok"; })()`); got != "ok" {
		p.t.Fatalf("no field labelled %q", label)
	}
	p.do("fill "+label, chromedp.SendKeys(fieldOf(label), value))
}

// message is the text of the visible form message (error or notice).
func (p *portalPage) message(kind string) string {
	p.t.Helper()
	sel := "//main//div[contains(@class,'form-message') and contains(@class," + xq(kind) + ") and normalize-space() != '']"
	p.do("wait for the "+kind+" message", chromedp.WaitVisible(sel))
	return p.eval(`[...document.querySelectorAll("main .form-message.` + kind + `")].filter(e => e.textContent.trim()).map(e => e.innerText).join("\n")`)
}

func (p *portalPage) code(ctx context.Context, email, subject string) string {
	p.t.Helper()
	msg, err := mailpit.Require(p.t).WaitForMessage(ctx, email, subject)
	if err != nil {
		p.t.Fatal(err)
	}
	c := codeRe.FindString(msg.Text)
	if c == "" {
		p.t.Fatalf("no code in the mail %q:\n%s", msg.Subject, msg.Text)
	}
	return c
}

// register fills the form, first with a weak password that the page must
// refuse without a request, then with pw.
func (p *portalPage) register(email, pw, prefix string) {
	p.t.Helper()
	p.do("the register page", chromedp.WaitVisible(heading("Create an account")),
		chromedp.WaitVisible(text("The password must be at least 12 characters long, no spaces, include upper/lowercase letters, numbers and symbols.")))
	var (
		mu    sync.Mutex
		posts int
	)
	lctx, stop := context.WithCancel(p.ctx)
	defer stop()
	if err := chromedp.Listen(lctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request.Method == http.MethodPost && strings.HasSuffix(e.Request.URL, "/api/accounts") {
			mu.Lock()
			posts++
			mu.Unlock()
		}
	}); err != nil {
		p.t.Fatal(err)
	}
	p.fill("Email address", email)
	p.fill("Password", "weak pass")
	// Checked as the person types: the rule list says what is missing.
	if got := p.eval(`document.querySelector('li[data-rule="too_short"]').className + " " + document.querySelector('li[data-rule="whitespace"]').className`); got != "bad bad" {
		p.t.Errorf("after typing a short password with a space the rule list shows %q, want both rules not met", got)
	}
	p.do("submit a weak password", chromedp.Click(button("Create an account")))
	if msg := p.message("error"); !strings.Contains(msg, "at least 12 characters") {
		p.t.Errorf("a weak password is refused with %q, which does not name the rule", msg)
	}
	if got := p.eval(`document.activeElement.getAttribute("aria-invalid") + " " + document.activeElement.type`); got != "true password" {
		p.t.Errorf("after the refusal focus is on %q, want the invalid password field", got)
	}
	p.shot(prefix + "register-weak-password")
	mu.Lock()
	if posts != 0 {
		p.t.Errorf("the page sent %d registration requests for a weak password; want none", posts)
	}
	mu.Unlock()
	p.fill("Password", pw)
	p.do("create the account", chromedp.Click(button("Create an account")),
		chromedp.WaitVisible(heading("Check your inbox and enter verification code")))
	mu.Lock()
	if posts != 1 {
		p.t.Errorf("the page sent %d registration requests; want 1", posts)
	}
	mu.Unlock()
}

// verify reads the code from Mailpit and verifies.
func (p *portalPage) verify(email, prefix string) {
	p.t.Helper()
	p.do("the verify page", chromedp.WaitVisible(text("This code will expire in 30 minutes")),
		chromedp.WaitVisible(text("Didn't receive a code?")), chromedp.WaitVisible(button("Send new code")),
		chromedp.WaitVisible(text("You can send a new code at")), chromedp.WaitVisible(fieldOf("Verification code")))
	p.shot(prefix + "verify")
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	code := p.code(ctx, email, "verification code")
	// A wrong code first: refused in words, not JSON.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	p.fill("Verification code", wrong)
	p.do("a wrong code", chromedp.Click(button("Verify")))
	if msg := p.message("error"); !strings.Contains(msg, "The code is wrong or has expired") || strings.Contains(msg, "{") {
		p.t.Errorf("a wrong code is refused with %q", msg)
	}
	p.fill("Verification code", code)
	p.do("verify", chromedp.Click(button("Verify")),
		chromedp.WaitVisible(heading("You have successfully created your account")),
		chromedp.WaitVisible(text("From now on you can download videos from our website")),
		chromedp.WaitVisible(button("Subscribe to our newsletter")),
		chromedp.WaitVisible("//header//*[contains(normalize-space(), "+xq(email)+")]"),
		chromedp.WaitVisible("//header"+button("Log out")))
	p.shot(prefix + "verified")
}

func (p *portalPage) logIn(email, pw string) {
	p.t.Helper()
	p.do("the login page", chromedp.WaitVisible(heading("Log in")))
	p.fill("Email address", email)
	p.fill("Password", pw)
	p.do("log in", chromedp.Click(button("Log in")),
		chromedp.WaitVisible("//header//*[contains(normalize-space(), "+xq(email)+")]"),
		chromedp.WaitVisible("//header"+button("Log out")))
}

func (p *portalPage) logOut() {
	p.t.Helper()
	p.do("log out", chromedp.Click("//header"+button("Log out")), chromedp.WaitVisible("//header"+link("Log in")))
}

func (p *portalPage) journey(slug string) {
	t := p.t
	email := mailpit.UniqueAddress("portal", "example.com")
	const pw, newPW = "Tulip-Harbour-93!", "Brand-New-Secret-77?"

	// Home, logged out: the catalogue, the latest article, the way in.
	p.open("/")
	p.do("home", chromedp.WaitVisible(heading("Access NATO’s broadcast-quality video content free of charge")),
		chromedp.WaitVisible(link(demoArticleTitle)),
		chromedp.WaitVisible("//h3[normalize-space()='Foreign Ministers in Oslo: arrivals']"),
		chromedp.WaitVisible(text("To download videos, log in.")))
	p.shot("home")

	// A download while logged out says why not and where to go.
	p.do("download logged out", chromedp.Click(downloadButton("Foreign Ministers in Oslo: arrivals", "MP4 1080p")))
	if msg := p.message("error"); !strings.Contains(msg, "log in") {
		t.Errorf("a download while logged out says %q", msg)
	}

	// Keyboard only: the skip link comes first; the form's fields in order.
	p.open("/")
	p.tabOrder("a:Skip to content")
	p.do("to register", chromedp.Click("//header"+link("Register")), chromedp.WaitVisible(heading("Create an account")))
	p.tabOrder("input:Email address", "input:Password", "input:Show password", "input:Subscribe to our newsletter",
		"button:Create an account", "a:Log in")
	p.register(email, pw, "")
	p.verify(email, "")

	// Log out, then log in by the form.
	p.logOut()
	p.do("to log in", chromedp.Click("//header"+link("Log in")))
	p.logIn(email, pw)
	p.shot("home-logged-in")

	// Newsletter: subscribe; the read model keeps it across a reload.
	p.do("subscribe", chromedp.Click(button("Subscribe to our newsletter")),
		chromedp.WaitVisible(text("You are subscribed to the newsletter")), chromedp.WaitVisible(button("Unsubscribe")))
	p.open("/")
	p.do("still subscribed after a reload", chromedp.WaitVisible(text("You are subscribed to the newsletter")))

	// Download: recorded by the API, and the browser fetches the file.
	dir := t.TempDir()
	p.do("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true)})
		return err
	}))
	p.open("/videos")
	dctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	progress := chromedp.Events(dctx, browser.DownloadProgress)
	p.do("download", chromedp.WaitVisible(heading("Videos")),
		chromedp.Click(downloadButton("Foreign Ministers in Oslo: arrivals", "MP4 1080p")))
	if msg := p.message("info"); !strings.Contains(msg, "has started") {
		t.Errorf("after a download the page says %q", msg)
	}
	p.shot("videos-download")
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("no finished download: %v", err)
		}
		if ev.State != browser.DownloadProgressStateCompleted {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
		if err != nil || !strings.Contains(string(b), "/mp4-1080p") {
			t.Fatalf("downloaded file: %q, %v", b, err)
		}
		break
	}
	p.waitDownloads("Foreign Ministers in Oslo: arrivals", 1)
	p.logOut()

	// Reset the password with the mailed code, from the login page.
	p.do("to log in", chromedp.Click("//header"+link("Log in")), chromedp.WaitVisible(heading("Log in")))
	p.do("to reset", chromedp.Click("//main"+link("Reset password")), chromedp.WaitVisible(heading("Reset password")),
		chromedp.WaitVisible(text("Enter the email address you registered with and we will send you a code to reset your password.")))
	p.fill("Email address", email)
	p.do("ask for a reset code", chromedp.Click(button("Reset password")), chromedp.WaitVisible("//main//h1[contains(., 'Check your inbox')]"),
		chromedp.WaitVisible(fieldOf("Verification code")), chromedp.WaitVisible(fieldOf("New password")),
		chromedp.WaitVisible(text("The password must be at least 12 characters long")))
	p.shot("reset-code")
	ctx, cancel2 := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel2()
	p.fill("Verification code", p.code(ctx, email, "password reset code"))
	p.fill("New password", newPW)
	p.do("create a new password", chromedp.Click(button("Create a new password")),
		chromedp.WaitVisible(heading("Your password has been updated")),
		chromedp.WaitVisible(text("Click the button to return to the page you were on and log in with your new password.")))
	p.shot("reset-done")
	p.do("back to log in", chromedp.Click(button("Return and log in")), chromedp.WaitVisible(heading("Log in")))
	// The old password is refused, in words.
	p.fill("Email address", email)
	p.fill("Password", pw)
	p.do("log in with the old password", chromedp.Click(button("Log in")))
	if msg := p.message("error"); !strings.Contains(msg, "The email address or the password is wrong") || strings.Contains(msg, "{") {
		t.Errorf("the old password is refused with %q", msg)
	}
	p.logIn(email, newPW)
	if got := p.eval(`location.pathname`); got != "/login" && got != "/" {
		t.Logf("after logging in the page is at %s", got)
	}

	// The article, from the home page's list.
	p.open("/")
	p.do("open the article", chromedp.Click(link(demoArticleTitle)), chromedp.WaitVisible(heading(demoArticleTitle)),
		chromedp.WaitVisible(text("At a special meeting at NATO’s Headquarters, 19 April")),
		chromedp.WaitVisible("//main//h2[normalize-space()='Indivisible security']"),
		chromedp.WaitVisible("//main//time"))
	if got := p.eval(`location.pathname`); got != "/articles/"+slug {
		t.Errorf("the article is at %s, want /articles/%s", got, slug)
	}
	if n, _ := strconv.Atoi(p.eval(`String(document.querySelectorAll("main article p").length)`)); n < 10 {
		t.Errorf("the article shows %d paragraphs, want the summary, the date and the body's", n)
	}
	p.shot("article")

	// An unknown page path: the friendly 404 page, with status 404.
	p.open("/no-such-page")
	p.do("404", chromedp.WaitVisible(heading("We could not find that page")))
	resp, err := http.Get(p.base + "/no-such-page")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("/no-such-page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}

	// My account: download my data (a file holding the address), then
	// delete the account, confirmed with the password (issue 14).
	p.open("/")
	p.do("to my account", chromedp.Click("//header"+link("My account")), chromedp.WaitVisible(heading("My account")),
		chromedp.WaitVisible("//main//h2[normalize-space()='Download my data']"),
		chromedp.WaitVisible("//main//h2[normalize-space()='Delete my account']"))
	ectx, cancel3 := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel3()
	exported := chromedp.Events(ectx, browser.DownloadProgress)
	p.do("download my data", chromedp.Click(button("Download my data")))
	if msg := p.message("info"); !strings.Contains(msg, "my-data.json") {
		t.Errorf("after downloading the data the page says %q", msg)
	}
	for ev, err := range exported {
		if err != nil {
			t.Fatalf("no finished data download: %v", err)
		}
		if ev.State != browser.DownloadProgressStateCompleted {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
		if err != nil || !strings.Contains(string(b), email) || !strings.Contains(string(b), `"downloads"`) {
			t.Fatalf("downloaded data: %.200q, %v", b, err)
		}
		break
	}
	p.shot("account")
	p.fill("Password", pw) // the old one: refused, in words
	p.do("delete with a wrong password", chromedp.Click(button("Delete my account")))
	if msg := p.message("error"); !strings.Contains(msg, "password") {
		t.Errorf("a wrong confirmation password is refused with %q", msg)
	}
	p.fill("Password", newPW)
	p.do("delete my account", chromedp.Click(button("Delete my account")),
		chromedp.WaitVisible(heading("Your account has been deleted")), chromedp.WaitVisible("//header"+link("Log in")))
	p.shot("account-deleted")
	p.do("to log in", chromedp.Click("//header"+link("Log in")), chromedp.WaitVisible(heading("Log in")))
	p.fill("Email address", email)
	p.fill("Password", newPW)
	p.do("log in to the deleted account", chromedp.Click(button("Log in")))
	if msg := p.message("error"); !strings.Contains(msg, "The email address or the password is wrong") {
		t.Errorf("a login to the deleted account is refused with %q", msg)
	}
}

// tabOrder presses Tab once per entry and checks what has focus: the
// element's tag and its label (or its text).
func (p *portalPage) tabOrder(want ...string) {
	p.t.Helper()
	for i, w := range want {
		p.do("press Tab", chromedp.KeyEvent("\t"))
		got := p.eval(`(() => { const e = document.activeElement; if (!e) return "";
			const name = e.labels && e.labels.length ? e.labels[0].textContent : e.textContent;
			return e.tagName.toLowerCase() + ":" + name.trim(); })()`)
		if got != w {
			p.t.Errorf("Tab %d focuses %q, want %q", i+1, got, w)
			return
		}
	}
}

func downloadButton(title, format string) string {
	return "//li[contains(@class,'video-card')][.//h3[normalize-space()=" + xq(title) + "]]//button[starts-with(normalize-space(), 'Download')][.//*[normalize-space()=" + xq(format) + "]]"
}

// waitDownloads waits until the catalogue counts n downloads of the video.
func (p *portalPage) waitDownloads(title string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := call(p.t, "GET", p.base+"/api/videos", "", nil)
		list, _ := body["videos"].([]any)
		for _, v := range list {
			m, _ := v.(map[string]any)
			if m["title"] == title && m["downloads"] == float64(n) {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the API does not count %d downloads of %q: %v", n, title, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// noSideScroll checks that nothing is wider than the window.
func (p *portalPage) noSideScroll() {
	p.t.Helper()
	if got := p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		p.t.Errorf("at %d px the page scrolls sideways (scrollWidth %s)", p.width, p.eval(`String(document.documentElement.scrollWidth)`))
	}
}

func ptrTo[T any](v T) *T { return &v }
