package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// readModel rebuilds the accounts read model from the log and returns its rows.
func readModel(t *testing.T, pool *pgxpool.Pool, store eventstore.Store) []accounts.Account {
	t.Helper()
	if _, err := projections.Rebuild(ctxT(t), projections.RebuildOptions{Pool: pool, Store: store, Projection: accounts.New()}); err != nil {
		t.Fatal(err)
	}
	rows, err := accounts.NewReader(pool).All(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// contentTables rebuilds the articles, videos and download_stats read
// models from the log and returns every row of each of their tables, as
// JSON in a fixed order, by table.
func contentTables(t *testing.T, pool *pgxpool.Pool, store eventstore.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range []projections.Projection{content.NewArticles(), content.NewVideos(), content.NewDownloadStats()} {
		if _, err := projections.Rebuild(ctxT(t), projections.RebuildOptions{Pool: pool, Store: store, Projection: p}); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
		for _, table := range p.Tables() {
			var rows string
			err := pool.QueryRow(ctxT(t), "SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY to_jsonb(r)::text), '[]')::text FROM "+table+" r").Scan(&rows)
			if err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			out[table] = rows
		}
	}
	return out
}

// withMetadata is an encoded event of an article or a video, with the
// metadata commands stamp on every event.
func withMetadata(t *testing.T, at time.Time, typ string, data []byte, err error) eventstore.EventData {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7())
	md, err := json.Marshal(eventstore.Metadata{EventID: id.String(), CorrelationID: uuid.NewString(), CausationID: uuid.NewString(),
		Actor: "admin", ClientIP: "192.0.2.8", OccurredAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: md}
}

// seedContent publishes two articles (one updated, one withdrawn) and two
// videos (one withdrawn later), and returns the videos' ids and formats.
func seedContent(t *testing.T, store eventstore.Store, at time.Time) (videos []string, formats []string) {
	t.Helper()
	ctx := ctxT(t)
	formats = []string{"mp4-1080p", "webm-720p"}
	for i, title := range []string{"Exercise report", "Summit opens"} {
		id := uuid.NewString()
		slug := article.Slugify(title)
		published := article.ArticlePublished{ArticleID: id, Slug: slug, Title: title, Summary: "Summary of " + title,
			Body: "Body of " + title, Tags: []string{"news", slug}, PublishedAt: at.Add(time.Duration(i) * time.Hour)}
		typ, data, err := article.Encode(published)
		events := []eventstore.EventData{withMetadata(t, published.PublishedAt, typ, data, err)}
		newTitle := title + " (updated)"
		var later article.Event = article.ArticleUpdated{ArticleID: id, Title: &newTitle, UpdatedAt: at.Add(26 * time.Hour)}
		if i == 1 {
			later = article.ArticleWithdrawn{ArticleID: id, WithdrawnAt: at.Add(27 * time.Hour)}
		}
		typ, data, err = article.Encode(later)
		events = append(events, withMetadata(t, at.Add(27*time.Hour), typ, data, err))
		if _, err := store.Append(ctx, article.StreamID(id), eventstore.NoStream, events...); err != nil {
			t.Fatal(err)
		}
	}
	for i, title := range []string{"Briefing", "Parade"} {
		id := uuid.NewString()
		published := video.VideoPublished{VideoID: id, Title: title, Description: "About " + title, DurationSeconds: 90 + i,
			Formats:     []video.Format{{Name: formats[0], SizeBytes: 1 << 30}, {Name: formats[1], SizeBytes: 1 << 28}},
			PublishedAt: at.Add(time.Duration(i) * time.Hour)}
		typ, data, err := video.Encode(published)
		events := []eventstore.EventData{withMetadata(t, published.PublishedAt, typ, data, err)}
		if i == 1 {
			withdrawn := video.VideoWithdrawn{VideoID: id, WithdrawnAt: at.Add(40 * 24 * time.Hour)}
			typ, data, err = video.Encode(withdrawn)
			events = append(events, withMetadata(t, withdrawn.WithdrawnAt, typ, data, err))
		}
		if _, err := store.Append(ctx, video.StreamID(id), eventstore.NoStream, events...); err != nil {
			t.Fatal(err)
		}
		videos = append(videos, id)
	}
	return videos, formats
}

func allEvents(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for e, err := range eventstore.AllEvents(ctxT(t), store, eventstore.Start, 1000) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func canon(t *testing.T, b []byte) string {
	t.Helper()
	c, err := audit.Canonical(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	src, srcPool := newChained(t)
	ctx := ctxT(t)
	rnd := rand.New(rand.NewPCG(21, 22))
	start := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	videos, formats := seedContent(t, src, start)
	var last eventstore.Position
	for range 6 {
		id := uuid.NewString()
		h := generateHistory(t, rnd, id, start, 5+rnd.IntN(20))
		// Then downloads of the published videos over a few weeks, for the
		// videos and download_stats read models.
		at := h[len(h)-1].at
		for range 2 + rnd.IntN(4) {
			at = at.Add(time.Duration(1+rnd.IntN(5*24)) * time.Hour)
			h = append(h, genEvent{account.VideoDownloaded{AccountID: id, VideoID: videos[rnd.IntN(len(videos))], Format: formats[rnd.IntN(len(formats))], At: at}, at})
		}
		claimEmail(t, src, id, "audit-"+id[:8]+"@example.com", h[0].at)
		pos := appendHistory(t, src, id, h)
		last = pos[len(pos)-1]
	}
	// A valid VideoPublished whose extra fields hold numbers that only
	// survive an export as written (61.50, 1e3).
	odd := uuid.NewString()
	res, err := src.Append(ctx, video.StreamID(odd), eventstore.NoStream,
		eventstore.EventData{ID: uuid.New(), Type: video.VideoPublishedType, Data: json.RawMessage(`{"video_id":"` + odd +
			`","title":"Summit","duration_seconds":61,"formats":[],"published_at":"2026-07-02T10:00:00Z","frame_rate":61.50,"n":1e3}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Position.Less(last) {
		t.Fatal("positions go backwards")
	}
	waitForHead(t, src, res.Position)
	want := allEvents(t, src)

	var buf bytes.Buffer
	var progressed int64
	exp, err := audit.Export(ctx, src, eventstore.Start, &buf, func(n int64, _ eventstore.Position) { progressed = n })
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if exp.Events != int64(len(want)) || len(lines) != len(want) || progressed != exp.Events || exp.Last != want[len(want)-1].Position {
		t.Fatalf("export: %+v, %d lines, progress %d; %d events in the log", exp, len(lines), progressed, len(want))
	}
	// --from exports only what came after.
	var tail bytes.Buffer
	if r, err := audit.Export(ctx, src, want[len(want)-3].Position, &tail, nil); err != nil || r.Events != 2 {
		t.Fatalf("export from %s: %+v %v", want[len(want)-3].Position, r, err)
	}

	dst, dstPool := newChained(t)
	imp, err := audit.Import(ctx, dst, bytes.NewReader(buf.Bytes()), audit.ImportOptions{BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	// 6 accounts, their 6 e-mail claims, 2 articles, 3 videos.
	if imp.Events != int64(len(want)) || imp.Streams != 17 {
		t.Fatalf("import: %+v", imp)
	}
	deadline := time.Now().Add(30 * time.Second)
	var got []eventstore.RecordedEvent
	for got = allEvents(t, dst); len(got) < len(want) && time.Now().Before(deadline); got = allEvents(t, dst) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events imported, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.ID != w.ID || g.StreamID != w.StreamID || g.Version != w.Version || g.Type != w.Type ||
			canon(t, g.Data) != canon(t, w.Data) || canon(t, g.Metadata) != canon(t, w.Metadata) {
			t.Fatalf("event %d differs:\n got  %+v\n want %+v", i, g, w)
		}
	}
	r, err := audit.VerifyAll(ctx, dst, nil)
	if err != nil || !r.OK() || r.Events != int64(len(want)) {
		t.Fatalf("verify after import: %+v %v", r, err)
	}
	srcRows, dstRows := readModel(t, srcPool, src), readModel(t, dstPool, dst)
	if len(srcRows) != 6 || !reflect.DeepEqual(srcRows, dstRows) {
		t.Fatalf("read models differ:\n source %+v\n import %+v", srcRows, dstRows)
	}
	// The content read models too: articles, videos and their download
	// counts, download statistics. Every table must have rows, or the
	// comparison proves nothing.
	wantTables, gotTables := contentTables(t, srcPool, src), contentTables(t, dstPool, dst)
	if got, want := len(gotTables), 5; got != want {
		t.Fatalf("%d content tables, want %d: %v", got, want, gotTables)
	}
	for table, want := range wantTables {
		if want == "[]" {
			t.Errorf("%s: no rows in the source", table)
		}
		if got := gotTables[table]; got != want {
			t.Errorf("%s differs after import:\n got  %s\n want %s", table, got, want)
		}
	}

	// A store with events is refused.
	if _, err := audit.Import(ctx, dst, bytes.NewReader(buf.Bytes()), audit.ImportOptions{}); !errors.Is(err, audit.ErrNotEmpty) {
		t.Fatalf("import into a full store: %v", err)
	}
}

func TestImportRefusesBadInputWritingNothing(t *testing.T) {
	t.Parallel()
	src, _ := newChained(t)
	ctx := ctxT(t)
	id := uuid.NewString()
	pos := appendHistory(t, src, id, generateHistory(t, rand.New(rand.NewPCG(5, 6)), id, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), 6))
	waitForHead(t, src, pos[len(pos)-1])
	var buf bytes.Buffer
	if _, err := audit.Export(ctx, src, eventstore.Start, &buf, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	edit := func(i int, f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		out := append([]string{}, lines...)
		out[i] = string(b)
		return strings.Join(out, "\n")
	}
	cases := []struct{ name, input, want string }{
		{"not JSON", strings.Join(append(append([]string{}, lines[:2]...), "{oops"), "\n"), "line 3: not an export record"},
		{"edited data", edit(3, func(m map[string]any) { m["data"].(map[string]any)["at"] = "2001-01-01T00:00:00Z" }), "line 4: stream account-" + id + " version 3"},
		{"missing event", strings.Join(append(append([]string{}, lines[:2]...), lines[3:]...), "\n"), "line 3: stream account-" + id + " version 3"},
		{"no id", edit(0, func(m map[string]any) { delete(m, "event_id") }), "line 1: event_id is missing"},
		{"duplicate id", lines[0] + "\n" + edit(1, func(m map[string]any) {
			var f map[string]any
			_ = json.Unmarshal([]byte(lines[0]), &f)
			m["event_id"] = f["event_id"]
		}), "appears twice"},
	}
	dst, _ := newChained(t)
	for _, c := range cases {
		_, err := audit.Import(ctx, dst, strings.NewReader(c.input), audit.ImportOptions{})
		if !errors.Is(err, audit.ErrBadImport) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v; want ErrBadImport with %q", c.name, err, c.want)
		}
		if head, err := dst.Head(context.Background()); err != nil || !head.IsZero() {
			t.Fatalf("%s: the target has events up to %s (%v)", c.name, head, err)
		}
	}
}
