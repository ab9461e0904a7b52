package content

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections"
)

// Projection names, constant: checkpoint keys and `multimedia projections` NAMEs.
const (
	ArticlesName      = "articles"
	VideosName        = "videos"
	DownloadStatsName = "download_stats"
)

// Articles builds the articles read model (rm_articles).
type Articles struct{}

var _ projections.Projection = Articles{}

// NewArticles returns the articles projection.
func NewArticles() Articles { return Articles{} }

// Name implements projections.Projection.
func (Articles) Name() string { return ArticlesName }

// Tables implements projections.Projection.
func (Articles) Tables() []string { return []string{"rm_articles"} }

// EventTypes implements projections.Projection.
func (Articles) EventTypes() []string {
	return []string{ArticlePublishedType, ArticleUpdatedType, ArticleWithdrawnType}
}

// Apply implements projections.Projection. Articles change rarely, so each
// event is one statement, in order.
func (Articles) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	for _, e := range events {
		if err := applyArticle(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

func applyArticle(ctx context.Context, tx pgx.Tx, e eventstore.RecordedEvent) error {
	var (
		sql  string
		args []any
		id   uuid.UUID
	)
	switch e.Type {
	case ArticlePublishedType:
		var v articlePublished
		if err := decode(e, &v); err != nil {
			return err
		}
		if v.Slug == "" {
			return fmt.Errorf("event %s (%s) at %s: slug is empty", e.ID, e.Type, e.Position)
		}
		if v.Tags == nil {
			v.Tags = []string{}
		}
		id = v.ArticleID
		sql = `INSERT INTO rm_articles (id, slug, title, summary, body, tags, published_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`
		args = []any{v.ArticleID, v.Slug, v.Title, v.Summary, v.Body, v.Tags, v.PublishedAt}
	case ArticleUpdatedType:
		var v articleUpdated
		if err := decode(e, &v); err != nil {
			return err
		}
		var tags []string
		if v.Tags != nil {
			tags = *v.Tags
			if tags == nil {
				tags = []string{}
			}
		}
		id = v.ArticleID
		sql = `UPDATE rm_articles SET title = coalesce($2, title), summary = coalesce($3, summary),
  body = coalesce($4, body), tags = coalesce($5, tags), updated_at = $6 WHERE id = $1`
		args = []any{v.ArticleID, v.Title, v.Summary, v.Body, tags, v.UpdatedAt}
	case ArticleWithdrawnType:
		var v articleWithdrawn
		if err := decode(e, &v); err != nil {
			return err
		}
		id = v.ArticleID
		sql = `UPDATE rm_articles SET withdrawn_at = $2 WHERE id = $1`
		args = []any{v.ArticleID, v.WithdrawnAt}
	default:
		return nil
	}
	if id == uuid.Nil {
		return fmt.Errorf("event %s (%s) at %s: article_id is missing", e.ID, e.Type, e.Position)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("articles: apply %s of %s: %w", e.Type, id, err)
	}
	return nil
}
