package content

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections"
)

// AllFormats is the format value of rm_download_counts rows that cover
// every format; uuid.Nil is their video_id for every video.
const AllFormats = ""

// DownloadStats builds the download statistics (rm_download_counts,
// rm_download_seen).
type DownloadStats struct{}

var _ projections.Projection = DownloadStats{}

// NewDownloadStats returns the download_stats projection.
func NewDownloadStats() DownloadStats { return DownloadStats{} }

// Name implements projections.Projection.
func (DownloadStats) Name() string { return DownloadStatsName }

// Tables implements projections.Projection.
func (DownloadStats) Tables() []string { return []string{"rm_download_counts", "rm_download_seen"} }

// EventTypes implements projections.Projection.
func (DownloadStats) EventTypes() []string { return []string{VideoDownloadedType} }

type seenKey struct {
	account uuid.UUID
	grain   string
	bucket  time.Time
}

// seen is one account's downloads in one bucket, as the sets the four
// kinds of count rows need.
type seen struct {
	pairs   map[string]bool // "video_id/format"
	videos  map[uuid.UUID]bool
	formats map[string]bool
	dirty   bool
}

func (s *seen) add(video uuid.UUID, format string) {
	s.pairs[video.String()+"/"+format] = true
	s.videos[video] = true
	s.formats[format] = true
}

type countKey struct {
	grain  string
	video  uuid.UUID
	format string
	bucket time.Time
}

type count struct{ downloads, accounts int64 }

var grains = []Interval{Day, Week, Month}

// Apply implements projections.Projection: it loads the seen sets the batch
// touches (one query), works out in memory which counts each download
// raises, and writes the changed sets and counts (two statements).
func (DownloadStats) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	downloads := make([]videoDownloaded, 0, len(events))
	keys := map[seenKey]bool{}
	for _, e := range events {
		d, err := decodeDownload(e)
		if err != nil {
			return err
		}
		downloads = append(downloads, d)
		for _, g := range grains {
			keys[seenKey{d.AccountID, g.grain(), g.Floor(d.At)}] = true
		}
	}
	if len(downloads) == 0 {
		return nil
	}
	sets, err := loadSeen(ctx, tx, keys)
	if err != nil {
		return err
	}
	counts := map[countKey]*count{}
	bump := func(k countKey, fresh bool) {
		c := counts[k]
		if c == nil {
			c = &count{}
			counts[k] = c
		}
		c.downloads++
		if fresh {
			c.accounts++
		}
	}
	for _, d := range downloads {
		for _, g := range grains {
			grain, bucket := g.grain(), g.Floor(d.At)
			s := sets[seenKey{d.AccountID, grain, bucket}]
			pair := d.VideoID.String() + "/" + d.Format
			bump(countKey{grain, d.VideoID, d.Format, bucket}, !s.pairs[pair])
			bump(countKey{grain, d.VideoID, AllFormats, bucket}, !s.videos[d.VideoID])
			bump(countKey{grain, uuid.Nil, d.Format, bucket}, !s.formats[d.Format])
			bump(countKey{grain, uuid.Nil, AllFormats, bucket}, len(s.pairs) == 0)
			if !s.pairs[pair] {
				s.add(d.VideoID, d.Format)
				s.dirty = true
			}
		}
	}
	if err := writeSeen(ctx, tx, sets); err != nil {
		return err
	}
	return writeCounts(ctx, tx, counts)
}

func loadSeen(ctx context.Context, tx pgx.Tx, keys map[seenKey]bool) (map[seenKey]*seen, error) {
	sets := make(map[seenKey]*seen, len(keys))
	accts, grainsCol, buckets := make([]uuid.UUID, 0, len(keys)), make([]string, 0, len(keys)), make([]time.Time, 0, len(keys))
	for k := range keys {
		sets[k] = &seen{pairs: map[string]bool{}, videos: map[uuid.UUID]bool{}, formats: map[string]bool{}}
		accts, grainsCol, buckets = append(accts, k.account), append(grainsCol, k.grain), append(buckets, k.bucket)
	}
	rows, err := tx.Query(ctx, `SELECT s.account_id, s.grain, s.bucket, s.pairs
FROM unnest($1::uuid[], $2::text[], $3::date[]) AS k(account_id, grain, bucket)
JOIN rm_download_seen s USING (account_id, grain, bucket)`, accts, grainsCol, buckets)
	if err != nil {
		return nil, fmt.Errorf("download_stats: load seen sets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k     seenKey
			pairs []string
		)
		if err := rows.Scan(&k.account, &k.grain, &k.bucket, &pairs); err != nil {
			return nil, fmt.Errorf("download_stats: load seen sets: %w", err)
		}
		s := sets[seenKey{k.account, k.grain, k.bucket.UTC()}]
		if s == nil {
			return nil, fmt.Errorf("download_stats: load seen sets: unexpected row %v", k)
		}
		for _, p := range pairs {
			video, format, ok := strings.Cut(p, "/")
			id, err := uuid.Parse(video)
			if !ok || err != nil {
				return nil, fmt.Errorf("download_stats: seen pair %q of account %s is malformed", p, k.account)
			}
			s.add(id, format)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("download_stats: load seen sets: %w", err)
	}
	return sets, nil
}

func writeSeen(ctx context.Context, tx pgx.Tx, sets map[seenKey]*seen) error {
	keys := make([]seenKey, 0, len(sets))
	for k, s := range sets {
		if s.dirty {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b seenKey) int {
		return cmp.Or(slices.Compare(a.account[:], b.account[:]), cmp.Compare(a.grain, b.grain), a.bucket.Compare(b.bucket))
	})
	accts, grainsCol, buckets, pairs := make([]uuid.UUID, len(keys)), make([]string, len(keys)), make([]time.Time, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		ps := make([]string, 0, len(sets[k].pairs))
		for p := range sets[k].pairs {
			ps = append(ps, p)
		}
		slices.Sort(ps)
		accts[i], grainsCol[i], buckets[i], pairs[i] = k.account, k.grain, k.bucket, strings.Join(ps, "\n")
	}
	_, err := tx.Exec(ctx, `INSERT INTO rm_download_seen (account_id, grain, bucket, pairs)
SELECT a, g, b, string_to_array(p, E'\n') FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[]) AS k(a, g, b, p)
ON CONFLICT (account_id, grain, bucket) DO UPDATE SET pairs = EXCLUDED.pairs`, accts, grainsCol, buckets, pairs)
	if err != nil {
		return fmt.Errorf("download_stats: write %d seen sets: %w", len(keys), err)
	}
	return nil
}

func writeCounts(ctx context.Context, tx pgx.Tx, counts map[countKey]*count) error {
	keys := make([]countKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), slices.Compare(a.video[:], b.video[:]),
			cmp.Compare(a.format, b.format), a.bucket.Compare(b.bucket))
	})
	n := len(keys)
	grainsCol, videos, formats, buckets := make([]string, n), make([]uuid.UUID, n), make([]string, n), make([]time.Time, n)
	dls, accts := make([]int64, n), make([]int64, n)
	for i, k := range keys {
		grainsCol[i], videos[i], formats[i], buckets[i] = k.grain, k.video, k.format, k.bucket
		dls[i], accts[i] = counts[k].downloads, counts[k].accounts
	}
	_, err := tx.Exec(ctx, `INSERT INTO rm_download_counts AS c (grain, video_id, format, bucket, downloads, accounts)
SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::date[], $5::bigint[], $6::bigint[])
ON CONFLICT (grain, video_id, format, bucket) DO UPDATE
SET downloads = c.downloads + EXCLUDED.downloads, accounts = c.accounts + EXCLUDED.accounts`,
		grainsCol, videos, formats, buckets, dls, accts)
	if err != nil {
		return fmt.Errorf("download_stats: write %d counts: %w", n, err)
	}
	return nil
}
