package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/projections/content"
)

func TestArticlesAndVideosReadModels(t *testing.T) {
	e := newReadEnv(t)
	h := e.server
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = uuid.NewString()
		tags := []string{"news"}
		if i%2 == 0 {
			tags = append(tags, "nato")
		}
		e.append(t, "article-"+ids[i], newEvent(t, content.ArticlePublishedType, map[string]any{"article_id": ids[i],
			"slug": fmt.Sprintf("article-%d", i), "title": fmt.Sprintf("Article %d", i), "summary": "s", "body": "b",
			"tags": tags, "published_at": base.Add(time.Duration(i) * time.Hour)}))
	}
	e.append(t, "article-"+ids[1], newEvent(t, content.ArticleUpdatedType, map[string]any{"article_id": ids[1], "title": "Article one, revised", "updated_at": base.Add(24 * time.Hour)}))
	pos := e.append(t, "article-"+ids[3], newEvent(t, content.ArticleWithdrawnType, map[string]any{"article_id": ids[3], "withdrawn_at": base.Add(25 * time.Hour)}))

	// Newest first, withdrawn hidden, paged by cursor, read-your-writes.
	var slugs []string
	next := ""
	for page := 0; ; page++ {
		rec := doRequest(t, h, http.MethodGet, "/api/articles?limit=2&consistent_with="+h.tokens.Seal(pos)+"&cursor="+url.QueryEscape(next), "", nil)
		wantStatus(t, rec, http.StatusOK)
		body := decodeBody[articlesReply](t, rec)
		for _, a := range body.Articles {
			slugs = append(slugs, a.Slug)
			if a.Body != "" {
				t.Errorf("list shows the body of %s", a.Slug)
			}
		}
		if next = body.Next; next == "" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if got := strings.Join(slugs, ","); got != "article-4,article-2,article-1,article-0" {
		t.Errorf("articles: %s", got)
	}
	rec := doRequest(t, h, http.MethodGet, "/api/articles?tag=nato", "", nil)
	wantStatus(t, rec, http.StatusOK)
	if got := decodeBody[articlesReply](t, rec); len(got.Articles) != 3 || got.Articles[0].Slug != "article-4" || got.Articles[2].Slug != "article-0" {
		t.Errorf("tag=nato: %+v", got.Articles)
	}
	rec = doRequest(t, h, http.MethodGet, "/api/articles/article-1", "", nil)
	wantStatus(t, rec, http.StatusOK)
	if a := decodeBody[content.Article](t, rec); a.Title != "Article one, revised" || a.Body != "b" || a.UpdatedAt == nil {
		t.Errorf("article-1: %+v", a)
	}
	rec = doRequest(t, h, http.MethodGet, "/api/articles/article-3", "", nil)
	wantStatus(t, rec, http.StatusNotFound)
	if e := errorOf(t, rec); e.Code != "not_found" || !strings.Contains(e.Message, "article-3") {
		t.Errorf("withdrawn article: %+v", e)
	}

	// Videos with download counts; a withdrawn video is 404.
	v1, _ := e.publishVideo(t, "Exercise footage", base)
	v2, _ := e.publishVideo(t, "Press conference", base.Add(time.Hour))
	acct := uuid.NewString()
	e.downloads(t, acct, v1, "mp4-1080p", base, base.Add(time.Minute), base.Add(2*time.Minute))
	e.downloads(t, acct, v1, "mxf-broadcast", base)
	e.append(t, "video-"+v1, newEvent(t, content.VideoUpdatedType, map[string]any{"video_id": v1, "title": "Exercise footage (full)", "updated_at": base.Add(time.Hour)}))
	pos = e.append(t, "video-"+v2, newEvent(t, content.VideoWithdrawnType, map[string]any{"video_id": v2, "withdrawn_at": base.Add(2 * time.Hour)}))
	rec = doRequest(t, h, http.MethodGet, "/api/videos/"+v1+"?consistent_with="+h.tokens.Seal(pos), "", nil)
	wantStatus(t, rec, http.StatusOK)
	v := decodeBody[map[string]any](t, rec)
	if v["video_id"] != v1 || v["title"] != "Exercise footage (full)" || v["downloads"] != float64(4) || v["duration_seconds"] != float64(754) {
		t.Errorf("video: %v", v)
	}
	formats, _ := v["formats"].([]any)
	if len(formats) != 3 {
		t.Fatalf("formats: %v", v["formats"])
	}
	if f := formats[1].(map[string]any); f["format"] != "mp4-1080p" || f["downloads"] != float64(3) || f["size_bytes"] != float64(2_100_000_000) {
		t.Errorf("format mp4-1080p: %v", f)
	}
	wantStatus(t, doRequest(t, h, http.MethodGet, "/api/videos/"+v2, "", nil), http.StatusNotFound)
	wantStatus(t, doRequest(t, h, http.MethodGet, "/api/videos/not-a-uuid", "", nil), http.StatusNotFound)
	rec = doRequest(t, h, http.MethodGet, "/api/videos", "", nil)
	wantStatus(t, rec, http.StatusOK)
	if list := decodeBody[videosReply](t, rec); len(list.Videos) != 1 || list.Videos[0].VideoID != v1 || list.Videos[0].Downloads != 4 {
		t.Errorf("catalogue: %+v", list)
	}
}

func TestStatsNeedAnAnalystToken(t *testing.T) {
	e := newReadEnv(t)
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {testAuditorToken, http.StatusOK}, {testAdminToken, http.StatusOK}} {
		for _, path := range []string{"/api/stats/downloads", "/api/stats/videos/top", "/api/stats/formats"} {
			rec := doRequest(t, e.server, http.MethodGet, path, c.token, nil)
			if rec.Code != c.want {
				t.Errorf("%s with token %q: %d, want %d (%s)", path, c.token, rec.Code, c.want, rec.Body)
			}
		}
	}
	// A logged-in user's session is a valid token, but not an analyst's: 403.
	// (Written to the session store directly: this env mails nothing, and
	// nobody logs in before verifying.)
	userToken := "a-user-session-token-not-an-analyst-0001"
	now := time.Now()
	if err := sessions.New(e.pool).Create(ctxFor(t), commands.Session{ID: uuid.NewString(), AccountID: uuid.NewString(),
		TokenHash: commands.HashToken(userToken), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/stats/downloads", "/api/stats/videos/top", "/api/stats/formats"} {
		rec := doRequest(t, e.server, http.MethodGet, path, userToken, nil)
		if got, want := rec.Code, http.StatusForbidden; got != want {
			t.Errorf("%s with a user's session: status %d, want %d (%s)", path, got, want, rec.Body)
			continue
		}
		if got, want := errorOf(t, rec).Code, "not_an_analyst"; got != want {
			t.Errorf("%s with a user's session: code %q, want %q", path, got, want)
		}
	}
	off := newReadEnv(t, func(c *Config) { c.AdminToken, c.AuditorToken = "", "" })
	rec := doRequest(t, off.server, http.MethodGet, "/api/stats/downloads", testAuditorToken, nil)
	wantStatus(t, rec, http.StatusForbidden)
	if got := errorOf(t, rec); got.Code != "stats_disabled" {
		t.Errorf("no tokens configured: %+v", got)
	}
}

func TestStatsBadInputNamesTheParameter(t *testing.T) {
	e := newReadEnv(t)
	v, pos := e.publishVideo(t, "One", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e.wait(t, pos)
	for _, c := range []struct{ path, param string }{
		{"/api/stats/downloads?from=yesterday", "from"},
		{"/api/stats/downloads?from=2026-02-30", "from"},
		{"/api/stats/downloads?to=2026-13-01", "to"},
		{"/api/stats/downloads?from=2026-03-01&to=2026-02-01", "from"},
		{"/api/stats/downloads?from=1900-01-01&to=1900-02-01", "from"},
		{"/api/stats/downloads?interval=hour", "interval"},
		{"/api/stats/downloads?from=2020-01-01&to=2025-01-02&interval=day", "interval"},
		{"/api/stats/downloads?from=2000-01-01&to=2025-01-02&interval=week", "interval"},
		{"/api/stats/downloads?video_id=12345", "video_id"},
		{"/api/stats/downloads?video_id=" + uuid.NewString(), "video_id"},
		{"/api/stats/downloads?video_id=" + v + "&format=mp4-4k", "format"},
		{"/api/stats/downloads?format=ogg", "format"},
		{"/api/stats/downloads?consistent_with=later", "consistent_with"},
		{"/api/stats/videos/top?limit=1001", "limit"},
		{"/api/stats/videos/top?limit=0", "limit"},
		{"/api/stats/videos/top?limit=ten", "limit"},
		{"/api/stats/videos/top?from=2026-05-01&to=2026-04-01", "from"},
		{"/api/stats/formats?video_id=" + uuid.NewString(), "video_id"},
		{"/api/stats/formats?format=mp4-1080p", "format"},
		{"/api/articles?limit=101", "limit"},
		{"/api/articles?cursor=bm90LWEtY3Vyc29y", "cursor"},
		{"/api/videos?cursor=%25%25", "cursor"},
		{"/api/articles?tag=" + strings.Repeat("x", 65), "tag"},
	} {
		rec := doRequest(t, e.server, http.MethodGet, c.path, testAuditorToken, nil)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; %s", c.path, rec.Code, rec.Body)
			continue
		}
		got := errorOf(t, rec)
		if got.Details["parameter"] != c.param || !strings.Contains(got.Message, `"`+c.param+`"`) {
			t.Errorf("%s: error %+v should name %q", c.path, got, c.param)
		}
	}
	// Exactly five years of days, and a limit of 1,000, are allowed.
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/stats/downloads?from=2020-01-01&to=2025-01-01", testAuditorToken, nil), http.StatusOK)
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/stats/videos/top?limit=1000", testAuditorToken, nil), http.StatusOK)
}

func TestDownloadStatsSeriesJSONAndCSV(t *testing.T) {
	e := newReadEnv(t)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC) } // March 2, 2026 is a Monday
	v1, _ := e.publishVideo(t, "One", day(1))
	v2, _ := e.publishVideo(t, "Two", day(1))
	a, b := uuid.NewString(), uuid.NewString()
	e.downloads(t, a, v1, "mp4-1080p", day(2), day(2), day(3))
	e.downloads(t, a, v2, "mp4-720p", day(4))
	e.downloads(t, b, v1, "mp4-720p", day(3), day(10))
	pos := e.downloads(t, b, v2, "mxf-broadcast", day(31))
	q := "&consistent_with=" + e.server.tokens.Seal(pos)

	rec := doRequest(t, e.server, http.MethodGet, "/api/stats/downloads?from=2026-03-02&to=2026-03-05"+q, testAuditorToken, nil)
	wantStatus(t, rec, http.StatusOK)
	got := decodeBody[seriesReply](t, rec)
	want := seriesReply{From: "2026-03-02", To: "2026-03-05", Interval: "day", Total: 5, Series: []seriesPoint{
		{"2026-03-02", 2, 1}, {"2026-03-03", 2, 2}, {"2026-03-04", 1, 1}, {"2026-03-05", 0, 0}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("days:\n got %+v\nwant %+v", got, want)
	}
	// Weeks: distinct across the week (a and b once each), not summed per day.
	rec = doRequest(t, e.server, http.MethodGet, "/api/stats/downloads?from=2026-03-04&to=2026-03-31&interval=week"+q, testAdminToken, nil)
	wantStatus(t, rec, http.StatusOK)
	got = decodeBody[seriesReply](t, rec)
	want = seriesReply{From: "2026-03-02", To: "2026-04-05", Interval: "week", Total: 7, Series: []seriesPoint{
		{"2026-03-02", 5, 2}, {"2026-03-09", 1, 1}, {"2026-03-16", 0, 0}, {"2026-03-23", 0, 0}, {"2026-03-30", 1, 1}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("weeks:\n got %+v\nwant %+v", got, want)
	}
	rec = doRequest(t, e.server, http.MethodGet, "/api/stats/downloads?from=2026-03-01&to=2026-03-31&interval=month&video_id="+v1+"&format=mp4-720p"+q, testAdminToken, nil)
	wantStatus(t, rec, http.StatusOK)
	if got = decodeBody[seriesReply](t, rec); got.Total != 2 || len(got.Series) != 1 || got.Series[0].Accounts != 1 || got.VideoID != v1 {
		t.Errorf("month, one video and format: %+v", got)
	}

	rec = doRequest(t, e.server, http.MethodGet, "/api/stats/downloads?from=2026-03-02&to=2026-03-05"+q, testAuditorToken, nil, "Accept", "text/csv")
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	wantCSV := "start,downloads,accounts\n2026-03-02,2,1\n2026-03-03,2,2\n2026-03-04,1,1\n2026-03-05,0,0\n"
	if rec.Body.String() != wantCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", rec.Body, wantCSV)
	}

	rec = doRequest(t, e.server, http.MethodGet, "/api/stats/videos/top?from=2026-03-01&to=2026-03-31&limit=1"+q, testAuditorToken, nil)
	wantStatus(t, rec, http.StatusOK)
	if top := decodeBody[topReply](t, rec); len(top.Videos) != 1 || top.Videos[0].VideoID != v1 || top.Videos[0].Downloads != 5 || top.Videos[0].Title != "One" {
		t.Errorf("top: %+v", top)
	}
	rec = doRequest(t, e.server, http.MethodGet, "/api/stats/formats?from=2026-03-01&to=2026-03-31"+q, testAuditorToken, nil)
	wantStatus(t, rec, http.StatusOK)
	if f := decodeBody[formatsReply](t, rec); f.Total != 7 || fmt.Sprint(f.Formats) != "[{mp4-720p 3} {mp4-1080p 3} {mxf-broadcast 1}]" && fmt.Sprint(f.Formats) != "[{mp4-1080p 3} {mp4-720p 3} {mxf-broadcast 1}]" {
		t.Errorf("formats: %+v", f)
	}
}

// TestArticlePageStatus: the page of a published article answers 200, the
// page of a slug no article has (or of a withdrawn one) 404, both with the
// app shell, which shows the article or its "not found" view.
func TestArticlePageStatus(t *testing.T) {
	e := newReadEnv(t)
	id, gone := uuid.NewString(), uuid.NewString()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	e.append(t, "article-"+id, newEvent(t, content.ArticlePublishedType, map[string]any{"article_id": id,
		"slug": "page-status", "title": "Page status", "summary": "s", "body": "b", "tags": []string{"news"}, "published_at": at}))
	e.append(t, "article-"+gone, newEvent(t, content.ArticlePublishedType, map[string]any{"article_id": gone,
		"slug": "page-gone", "title": "Gone", "summary": "s", "body": "b", "tags": []string{"news"}, "published_at": at}))
	pos := e.append(t, "article-"+gone, newEvent(t, content.ArticleWithdrawnType, map[string]any{"article_id": gone, "withdrawn_at": at.Add(time.Hour)}))
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/articles/page-status?consistent_with="+e.server.tokens.Seal(pos), "", nil), http.StatusOK)

	for path, want := range map[string]int{"/articles/page-status": http.StatusOK, "/articles/no-such-article": http.StatusNotFound,
		"/articles/page-gone": http.StatusNotFound} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			e.server.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			if got := rec.Code; got != want {
				t.Errorf("%s %s: status %d, want %d", method, path, got, want)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s %s: Content-Type %s, want the page", method, path, ct)
			}
			if method == http.MethodGet && !strings.Contains(rec.Body.String(), `<script type="module" src="/assets/app.js">`) {
				t.Errorf("%s %s: not the app shell", method, path)
			}
		}
	}
}
