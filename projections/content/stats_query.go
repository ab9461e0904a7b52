package content

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SeriesQuery selects a download time series. From and To are days (their
// time of day is ignored); the series covers the buckets of Interval from
// the one holding From to the one holding To, both whole.
type SeriesQuery struct {
	From, To time.Time
	Interval Interval
	// VideoID and Format filter; "" means every video, every format. The
	// caller checks that they exist.
	VideoID string
	Format  string
}

// Point is one bucket of a series: downloads, and the distinct accounts
// that downloaded in the whole bucket.
type Point struct {
	Start     time.Time `json:"start"`
	Downloads int64     `json:"downloads"`
	Accounts  int64     `json:"accounts"`
}

// Series is a zero-filled download time series.
type Series struct {
	// From is the first bucket's start; To the last bucket's last day.
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Interval Interval  `json:"interval"`
	Total    int64     `json:"total"`
	Points   []Point   `json:"series"`
}

// DownloadSeries returns the series q asks for, one row read per bucket.
func (r *Reader) DownloadSeries(ctx context.Context, q SeriesQuery) (Series, error) {
	video := uuid.Nil
	if q.VideoID != "" {
		id, err := uuid.Parse(q.VideoID)
		if err != nil {
			return Series{}, fmt.Errorf("content: series: video_id %q is not a UUID", q.VideoID)
		}
		video = id
	}
	from, to := q.Interval.Floor(q.From), q.Interval.Floor(q.To)
	n := q.Interval.Buckets(from, to)
	s := Series{From: from, To: q.Interval.Next(to).AddDate(0, 0, -1), Interval: q.Interval, Points: make([]Point, 0, n)}
	index := make(map[time.Time]int, n)
	for t := from; !t.After(to); t = q.Interval.Next(t) {
		index[t] = len(s.Points)
		s.Points = append(s.Points, Point{Start: t})
	}
	rows, err := r.db.Query(ctx, `SELECT bucket, downloads, accounts FROM rm_download_counts
WHERE grain = $1 AND video_id = $2 AND format = $3 AND bucket BETWEEN $4 AND $5`,
		q.Interval.grain(), video, q.Format, from, to)
	if err != nil {
		return Series{}, queryError("series", err)
	}
	var (
		bucket    time.Time
		dls, acct int64
	)
	_, err = pgx.ForEachRow(rows, []any{&bucket, &dls, &acct}, func() error {
		i, ok := index[bucket.UTC()]
		if !ok {
			return fmt.Errorf("bucket %s is not a %s start", bucket.Format(time.DateOnly), q.Interval)
		}
		s.Points[i].Downloads, s.Points[i].Accounts = dls, acct
		s.Total += dls
		return nil
	})
	if err != nil {
		return Series{}, queryError("series", err)
	}
	return s, nil
}

// TopVideo is one line of the most-downloaded list.
type TopVideo struct {
	VideoID   string `json:"video_id"`
	Title     string `json:"title"`
	Downloads int64  `json:"downloads"`
	Withdrawn bool   `json:"withdrawn"`
}

// TopVideos returns the limit most downloaded videos over the days
// from..to (inclusive), most first, ties by id.
func (r *Reader) TopVideos(ctx context.Context, from, to time.Time, limit int) ([]TopVideo, error) {
	rows, err := r.db.Query(ctx, `SELECT c.video_id::text, coalesce(v.title, ''), c.n, v.withdrawn_at IS NOT NULL
FROM (SELECT video_id, sum(downloads)::bigint AS n FROM rm_download_counts
      WHERE grain = 'd' AND format = '' AND video_id <> $1 AND bucket BETWEEN $2 AND $3
      GROUP BY video_id) c
LEFT JOIN rm_videos v ON v.id = c.video_id
ORDER BY c.n DESC, c.video_id LIMIT $4`, uuid.Nil, Day.Floor(from), Day.Floor(to), limit)
	if err != nil {
		return nil, queryError("top videos", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TopVideo, error) {
		var t TopVideo
		err := row.Scan(&t.VideoID, &t.Title, &t.Downloads, &t.Withdrawn)
		return t, err
	})
	if err != nil {
		return nil, queryError("top videos", err)
	}
	return out, nil
}

// FormatShare is the downloads of one format over a range.
type FormatShare struct {
	Format    string `json:"format"`
	Downloads int64  `json:"downloads"`
}

// FormatSplit returns the downloads per format over the days from..to
// (inclusive), of one video or (videoID "") of all, most first.
func (r *Reader) FormatSplit(ctx context.Context, from, to time.Time, videoID string) ([]FormatShare, error) {
	video := uuid.Nil
	if videoID != "" {
		id, err := uuid.Parse(videoID)
		if err != nil {
			return nil, fmt.Errorf("content: format split: video_id %q is not a UUID", videoID)
		}
		video = id
	}
	rows, err := r.db.Query(ctx, `SELECT format, sum(downloads)::bigint AS n FROM rm_download_counts
WHERE grain = 'd' AND video_id = $1 AND format <> '' AND bucket BETWEEN $2 AND $3
GROUP BY format ORDER BY n DESC, format`, video, Day.Floor(from), Day.Floor(to))
	if err != nil {
		return nil, queryError("format split", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (FormatShare, error) {
		var f FormatShare
		err := row.Scan(&f.Format, &f.Downloads)
		return f, err
	})
	if err != nil {
		return nil, queryError("format split", err)
	}
	return out, nil
}
