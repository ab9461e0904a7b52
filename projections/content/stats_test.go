package content_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// recount is the brute-force oracle: it reads the whole log and counts the
// downloads and distinct accounts of each bucket that match the filters.
func recount(t *testing.T, s eventstore.Store, q content.SeriesQuery) content.Series {
	t.Helper()
	type bucket struct {
		downloads int64
		accounts  map[string]bool
	}
	buckets := map[time.Time]*bucket{}
	from, to := q.Interval.Floor(q.From), q.Interval.Floor(q.To)
	for e, err := range eventstore.AllEvents(context.Background(), s, eventstore.Start, 5000) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != content.VideoDownloadedType {
			continue
		}
		ev, err := download.Decode(e.Type, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		d, ok := ev.(download.VideoDownloaded)
		if !ok {
			t.Fatalf("event %s decodes to %T, want download.VideoDownloaded", e.ID, ev)
		}
		b := q.Interval.Floor(d.At)
		if b.Before(from) || b.After(to) || (q.VideoID != "" && d.VideoID != q.VideoID) || (q.Format != "" && d.Format != q.Format) {
			continue
		}
		if buckets[b] == nil {
			buckets[b] = &bucket{accounts: map[string]bool{}}
		}
		buckets[b].downloads++
		buckets[b].accounts[d.AccountID] = true
	}
	out := content.Series{From: from, To: q.Interval.Next(to).AddDate(0, 0, -1), Interval: q.Interval, Points: []content.Point{}}
	for b := from; !b.After(to); b = q.Interval.Next(b) {
		p := content.Point{Start: b}
		if bk := buckets[b]; bk != nil {
			p.Downloads, p.Accounts = bk.downloads, int64(len(bk.accounts))
		}
		out.Total += p.Downloads
		out.Points = append(out.Points, p)
	}
	return out
}

// history appends a random download history: some videos, accounts that
// download on random days in random order (the "at" times are not
// monotonic in the log), in appends of random sizes from several writers.
func history(t *testing.T, e *env, r *rand.Rand, start time.Time, days int) ([]uuid.UUID, eventstore.Position) {
	t.Helper()
	videos := make([]uuid.UUID, 2+r.IntN(4))
	var last eventstore.Position
	for i := range videos {
		videos[i], last = e.publishVideo(t, fmt.Sprintf("video %d", i), start)
	}
	accounts := make([]uuid.UUID, 10+r.IntN(30))
	for i := range accounts {
		accounts[i] = uuid.New()
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for w := range 4 {
		seed := r.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rw := rand.New(rand.NewPCG(seed, uint64(w)))
			for range 40 {
				acct := accounts[rw.IntN(len(accounts))]
				evs := make([]eventstore.EventData, 1+rw.IntN(25))
				for i := range evs {
					at := start.Add(time.Duration(rw.Int64N(int64(days) * int64(24*time.Hour))))
					evs[i] = downloaded(t, acct, videos[rw.IntN(len(videos))], defaultFormats[rw.IntN(3)].Name, at)
				}
				res, err := e.store.Append(context.Background(), "account-"+acct.String(), eventstore.Any, evs...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if last.Less(res.Position) {
					last = res.Position
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return videos, last
}

func TestStatsEqualBruteForceRecount(t *testing.T) {
	for _, seed := range []uint64{uint64(time.Now().UnixNano()), 1, 2} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, true)
			r := rand.New(rand.NewPCG(seed, 42))
			start := time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC) // spans a year end, months and weeks
			videos, last := history(t, e, r, start, 70)
			e.wait(t, last)
			ctx := context.Background()
			queries := []content.SeriesQuery{}
			for _, iv := range content.Intervals {
				from := start.AddDate(0, 0, r.IntN(10))
				to := from.AddDate(0, 0, 20+r.IntN(60))
				queries = append(queries,
					content.SeriesQuery{From: from, To: to, Interval: iv},
					content.SeriesQuery{From: from, To: to, Interval: iv, VideoID: videos[0].String()},
					content.SeriesQuery{From: from, To: to, Interval: iv, Format: "mp4-720p"},
					content.SeriesQuery{From: from, To: to, Interval: iv, VideoID: videos[1].String(), Format: "mp4-1080p"},
				)
			}
			for _, q := range queries {
				got, err := e.reader.DownloadSeries(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want := recount(t, e.store, q)
				if !reflect.DeepEqual(got, want) {
					for i := range min(len(got.Points), len(want.Points)) {
						if got.Points[i] != want.Points[i] {
							t.Errorf("bucket %d: got %+v, want %+v", i, got.Points[i], want.Points[i])
							break
						}
					}
					t.Fatalf("seed %d, %+v: got total %d (%d buckets from %s to %s), want %d (%d from %s to %s)", seed, q,
						got.Total, len(got.Points), got.From, got.To, want.Total, len(want.Points), want.From, want.To)
				}
				if q.Interval == content.Week && q.VideoID == "" && q.Format == "" {
					// Weekly accounts are distinct across the week, not sums of days.
					days, err := e.reader.DownloadSeries(ctx, content.SeriesQuery{From: got.From, To: got.To, Interval: content.Day})
					if err != nil {
						t.Fatal(err)
					}
					var sumDaily, sumWeekly int64
					for _, p := range days.Points {
						sumDaily += p.Accounts
					}
					for _, p := range got.Points {
						sumWeekly += p.Accounts
					}
					if sumWeekly >= sumDaily {
						t.Errorf("weekly distinct accounts %d should be below the sum of daily ones %d", sumWeekly, sumDaily)
					}
				}
			}
			// The video counts are the all-time totals per video and format.
			total := int64(0)
			for _, id := range videos {
				v, err := e.reader.Video(ctx, id.String())
				if err != nil {
					t.Fatal(err)
				}
				want := recount(t, e.store, content.SeriesQuery{From: start.AddDate(0, 0, -1), To: start.AddDate(0, 0, 80), Interval: content.Month, VideoID: id.String()})
				if v.Downloads != want.Total {
					t.Errorf("video %s: downloads %d, recount %d", id, v.Downloads, want.Total)
				}
				total += v.Downloads
			}
			top, err := e.reader.TopVideos(ctx, start, start.AddDate(0, 0, 80), 1000)
			if err != nil {
				t.Fatal(err)
			}
			var topSum int64
			for i, tv := range top {
				topSum += tv.Downloads
				if i > 0 && tv.Downloads > top[i-1].Downloads {
					t.Errorf("top videos not sorted: %+v", top)
				}
			}
			if topSum != total || len(top) != len(videos) {
				t.Errorf("top videos sum %d over %d videos, want %d over %d", topSum, len(top), total, len(videos))
			}
			split, err := e.reader.FormatSplit(ctx, start, start.AddDate(0, 0, 80), "")
			if err != nil {
				t.Fatal(err)
			}
			var splitSum int64
			for _, f := range split {
				splitSum += f.Downloads
			}
			if splitSum != total {
				t.Errorf("format split sums to %d, want %d", splitSum, total)
			}
		})
	}
}

// TestLiveEqualsRebuilt: the statistics rebuilt from position 0 equal the
// ones built live, row for row.
func TestLiveEqualsRebuilt(t *testing.T) {
	e := newEnv(t, true)
	r := rand.New(rand.NewPCG(7, 7))
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	_, last := history(t, e, r, start, 40)
	e.wait(t, last)
	ctx := context.Background()
	dump := func() []string {
		rows, err := e.pool.Query(ctx, `SELECT format('%s|%s|%s|%s|%s|%s', grain, video_id, format, bucket, downloads, accounts)
FROM rm_download_counts ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	live := dump()
	for _, p := range all() {
		if _, err := projections.Rebuild(ctx, projections.RebuildOptions{Pool: e.pool, Store: e.store, Projection: p, BatchSize: 97, Logger: quiet()}); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
	}
	rebuilt := dump()
	if len(live) == 0 || !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("live (%d rows) and rebuilt (%d rows) differ", len(live), len(rebuilt))
	}
}

// TestConcurrentDownloads: 50 clients append 2,000 downloads each at once;
// the video's count and the statistics end at exactly 100,000.
func TestConcurrentDownloads(t *testing.T) {
	const clients, each = 50, 2000
	e := newEnv(t, true)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	video, _ := e.publishVideo(t, "the popular one", day)
	var (
		mu   sync.Mutex
		last eventstore.Position
		wg   sync.WaitGroup
	)
	begin := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := uuid.New()
			// Appends of 20 downloads: 5,000 appends racing on 50 streams.
			for i := 0; i < each; i += 20 {
				evs := make([]eventstore.EventData, 20)
				for j := range evs {
					evs[j] = downloaded(t, acct, video, defaultFormats[(c+i+j)%3].Name, day.Add(time.Duration(i+j)*time.Minute))
				}
				res, err := e.store.Append(context.Background(), "account-"+acct.String(), eventstore.Any, evs...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if last.Less(res.Position) {
					last = res.Position
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("appended %d downloads in %s", clients*each, time.Since(begin))
	e.wait(t, last)
	t.Logf("projected in %s", time.Since(begin))
	ctx := context.Background()
	v, err := e.reader.Video(ctx, video.String())
	if err != nil {
		t.Fatal(err)
	}
	if v.Downloads != clients*each {
		t.Errorf("video downloads = %d, want %d", v.Downloads, clients*each)
	}
	for _, iv := range content.Intervals {
		s, err := e.reader.DownloadSeries(ctx, content.SeriesQuery{From: day, To: day.AddDate(0, 0, 3), Interval: iv, VideoID: video.String()})
		if err != nil {
			t.Fatal(err)
		}
		var accounts int64
		for _, p := range s.Points {
			accounts = max(accounts, p.Accounts)
		}
		if s.Total != clients*each || accounts != clients {
			t.Errorf("%s: total %d, most accounts in a bucket %d; want %d and %d", iv, s.Total, accounts, clients*each, clients)
		}
	}
}
