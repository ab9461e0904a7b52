package content

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections"
)

// Videos builds the catalogue (rm_videos) and the download counts per video
// and format (rm_video_downloads).
type Videos struct{}

var _ projections.Projection = Videos{}

// NewVideos returns the videos projection.
func NewVideos() Videos { return Videos{} }

// Name implements projections.Projection.
func (Videos) Name() string { return VideosName }

// Tables implements projections.Projection.
func (Videos) Tables() []string { return []string{"rm_videos", "rm_video_downloads"} }

// EventTypes implements projections.Projection.
func (Videos) EventTypes() []string {
	return []string{VideoPublishedType, VideoUpdatedType, VideoWithdrawnType, VideoDownloadedType}
}

type videoFormat struct {
	video  uuid.UUID
	format string
}

// Apply implements projections.Projection. Catalogue events are applied one
// statement each, in order; downloads, the bulk of the log, are summed per
// video and format and written with one statement per batch.
func (Videos) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	counts := map[videoFormat]int64{}
	for _, e := range events {
		if e.Type == VideoDownloadedType {
			d, err := decodeDownload(e)
			if err != nil {
				return err
			}
			counts[videoFormat{d.VideoID, d.Format}]++
			continue
		}
		if err := applyVideo(ctx, tx, e); err != nil {
			return err
		}
	}
	if len(counts) == 0 {
		return nil
	}
	keys := make([]videoFormat, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b videoFormat) int {
		return cmp.Or(slices.Compare(a.video[:], b.video[:]), cmp.Compare(a.format, b.format))
	})
	ids, formats, ns := make([]uuid.UUID, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		ids[i], formats[i], ns[i] = k.video, k.format, counts[k]
	}
	_, err := tx.Exec(ctx, `INSERT INTO rm_video_downloads AS d (video_id, format, downloads)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
ON CONFLICT (video_id, format) DO UPDATE SET downloads = d.downloads + EXCLUDED.downloads`, ids, formats, ns)
	if err != nil {
		return fmt.Errorf("videos: count downloads of %d video formats: %w", len(keys), err)
	}
	return nil
}

func applyVideo(ctx context.Context, tx pgx.Tx, e eventstore.RecordedEvent) error {
	var (
		sql  string
		args []any
		id   uuid.UUID
	)
	switch e.Type {
	case VideoPublishedType:
		var v videoPublished
		if err := decode(e, &v); err != nil {
			return err
		}
		formats, err := formatsJSON(v.Formats)
		if err != nil {
			return err
		}
		id = v.VideoID
		sql = `INSERT INTO rm_videos (id, title, description, duration_seconds, formats, published_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`
		args = []any{v.VideoID, v.Title, v.Description, v.DurationSeconds, formats, v.PublishedAt}
	case VideoUpdatedType:
		var v videoUpdated
		if err := decode(e, &v); err != nil {
			return err
		}
		var formats []byte
		if v.Formats != nil {
			f, err := formatsJSON(*v.Formats)
			if err != nil {
				return err
			}
			formats = f
		}
		id = v.VideoID
		sql = `UPDATE rm_videos SET title = coalesce($2, title), description = coalesce($3, description),
  duration_seconds = coalesce($4, duration_seconds), formats = coalesce($5::jsonb, formats), updated_at = $6 WHERE id = $1`
		args = []any{v.VideoID, v.Title, v.Description, v.DurationSeconds, formats, v.UpdatedAt}
	case VideoWithdrawnType:
		var v videoWithdrawn
		if err := decode(e, &v); err != nil {
			return err
		}
		id = v.VideoID
		sql = `UPDATE rm_videos SET withdrawn_at = $2 WHERE id = $1`
		args = []any{v.VideoID, v.WithdrawnAt}
	default:
		return nil
	}
	if id == uuid.Nil {
		return fmt.Errorf("event %s (%s) at %s: video_id is missing", e.ID, e.Type, e.Position)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("videos: apply %s of %s: %w", e.Type, id, err)
	}
	return nil
}

// formatsJSON is the jsonb the catalogue keeps: never null.
func formatsJSON(fs []Format) ([]byte, error) {
	if fs == nil {
		fs = []Format{}
	}
	b, err := json.Marshal(fs)
	if err != nil {
		return nil, fmt.Errorf("videos: encode formats: %w", err)
	}
	return b, nil
}
