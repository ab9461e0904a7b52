package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/projections/content"
)

// seedStatsRows writes the read-model rows that projecting downloads
// downloads of videos videos in 3 formats over days days would leave
// (rm_videos, rm_video_downloads and rm_download_counts for every grain and
// filter), straight into the tables: projecting 1,000,000 events takes
// minutes, and this benchmark measures the query, not the projector. The
// "accounts" figures are plausible, not exact distinct counts.
func seedStatsRows(b *testing.B, e *readEnv, first time.Time, days, videos, downloads int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, videos)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	steps := []string{
		`INSERT INTO rm_videos (id, title, description, duration_seconds, formats, published_at)
SELECT id::uuid, 'Video ' || n, 'Seeded for the benchmark.', 600,
  '[{"format":"mxf-broadcast","size_bytes":40000000000},{"format":"mp4-1080p","size_bytes":2000000000},{"format":"mp4-720p","size_bytes":900000000}]', $2
FROM unnest($1::text[]) WITH ORDINALITY AS v(id, n)`,
		// Day rows per video and format: the downloads spread unevenly.
		`INSERT INTO rm_download_counts (grain, video_id, format, bucket, downloads, accounts)
SELECT 'd', v.id::uuid, f.format, $2::date + d, w.n, greatest(1, w.n * 7 / 10)
FROM unnest($1::text[]) WITH ORDINALITY AS v(id, k)
CROSS JOIN (VALUES ('mxf-broadcast', 1), ('mp4-1080p', 3), ('mp4-720p', 2)) AS f(format, weight)
CROSS JOIN generate_series(0, $3 - 1) AS d
CROSS JOIN LATERAL (SELECT round($4::numeric * f.weight / 6 * (2.0 * (cardinality($1::text[]) - v.k + 1) / (cardinality($1::text[]) * (cardinality($1::text[]) + 1)))
  / $3 * (0.55 + 0.1 * ((d * 7 + v.k * 13) % 10)))::bigint AS n) w`,
		// The aggregate rows (every format, every video) of days.
		`INSERT INTO rm_download_counts (grain, video_id, format, bucket, downloads, accounts)
SELECT 'd', video_id, '', bucket, sum(downloads), sum(accounts) * 9 / 10 FROM rm_download_counts WHERE grain = 'd' GROUP BY video_id, bucket
UNION ALL SELECT 'd', '00000000-0000-0000-0000-000000000000', format, bucket, sum(downloads), sum(accounts) * 8 / 10 FROM rm_download_counts WHERE grain = 'd' GROUP BY format, bucket`,
		`INSERT INTO rm_download_counts (grain, video_id, format, bucket, downloads, accounts)
SELECT 'd', '00000000-0000-0000-0000-000000000000', '', bucket, sum(downloads), sum(accounts) * 8 / 10 FROM rm_download_counts WHERE grain = 'd' AND format <> '' AND video_id <> '00000000-0000-0000-0000-000000000000' GROUP BY bucket`,
		// Weeks and months from the days (accounts: a plausible fraction).
		`INSERT INTO rm_download_counts (grain, video_id, format, bucket, downloads, accounts)
SELECT 'w', video_id, format, date_trunc('week', bucket)::date, sum(downloads), max(accounts) * 3 FROM rm_download_counts WHERE grain = 'd' GROUP BY 2, 3, 4
UNION ALL SELECT 'm', video_id, format, date_trunc('month', bucket)::date, sum(downloads), max(accounts) * 8 FROM rm_download_counts WHERE grain = 'd' GROUP BY 2, 3, 4`,
		`INSERT INTO rm_video_downloads (video_id, format, downloads)
SELECT video_id, format, sum(downloads) FROM rm_download_counts WHERE grain = 'd' AND format <> '' AND video_id <> '00000000-0000-0000-0000-000000000000' GROUP BY 1, 2`,
		`ANALYZE rm_download_counts`, `ANALYZE rm_videos`, `ANALYZE rm_video_downloads`,
	}
	args := [][]any{{ids, first}, {ids, first, days, downloads}, nil, nil, nil, nil, nil, nil, nil}
	for i, q := range steps {
		if _, err := e.pool.Exec(ctx, q, args[i]...); err != nil {
			b.Fatalf("seed step %d: %v", i, err)
		}
	}
	var total int64
	if err := e.pool.QueryRow(ctx, `SELECT sum(downloads) FROM rm_download_counts WHERE grain = 'd' AND video_id = '00000000-0000-0000-0000-000000000000' AND format = ''`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded read-model rows for %d downloads of %d videos over %d days", total, videos, days)
	return ids
}

// BenchmarkStatsDownloads90Days: GET /api/stats/downloads for all videos
// over 90 days with 1,000,000 downloads stored, through the whole handler
// (auth, validation, query, JSON). Reports the median in ms (target ≤ 20).
func BenchmarkStatsDownloads90Days(b *testing.B) {
	e := newReadEnv(b)
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seedStatsRows(b, e, first, 90, 12, 1_000_000)
	for _, interval := range []string{"day", "week", "month"} {
		b.Run(interval, func(b *testing.B) {
			path := fmt.Sprintf("/api/stats/downloads?from=%s&to=%s&interval=%s", first.Format(time.DateOnly), first.AddDate(0, 0, 89).Format(time.DateOnly), interval)
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Authorization", "Bearer "+testAuditorToken)
				rec := httptest.NewRecorder()
				e.server.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

var healthzRate atomic.Value // float64, set by the healthz sub-benchmark

// BenchmarkVideoVersusHealthz: requests per second over real HTTP on
// loopback, many clients at once, for GET /healthz (no database) and then
// GET /api/videos/{id} (one query); the video's "x-healthz" metric is its
// rate as a fraction of healthz's in the same run (target ≥ 0.5, and
// ≥ 5,000 req/s).
func BenchmarkVideoVersusHealthz(b *testing.B) {
	e := newReadEnv(b)
	ids := seedStatsRows(b, e, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 90, 12, 100_000)
	srv := httptest.NewServer(e.server)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	base := srv.URL
	run := func(b *testing.B, path func(i int) string) float64 {
		b.SetParallelism(8)
		var n atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				resp, err := client.Get(base + path(int(i)))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		rate := float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(rate, "req/s")
		return rate
	}
	b.Run("healthz", func(b *testing.B) {
		healthzRate.Store(run(b, func(int) string { return "/healthz" }))
	})
	video := func(b *testing.B) {
		rate := run(b, func(i int) string { return "/api/videos/" + ids[i%len(ids)] })
		if h, ok := healthzRate.Load().(float64); ok && h > 0 {
			b.ReportMetric(rate/h, "x-healthz")
		}
	}
	b.Run("video-uncached", video)
	// As serve wires it: Video answers from a 250 ms cache.
	cfg := e.server.cfg
	cfg.Registry = nil
	cfg.ContentReads = content.NewReader(e.pool).WithVideoCache(250 * time.Millisecond)
	cached, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srvCached := httptest.NewServer(cached)
	b.Cleanup(srvCached.Close)
	base = srvCached.URL
	b.Run("video-cached", video)
}
