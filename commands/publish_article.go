package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// PublishArticle is an editor's "publish this article".
type PublishArticle struct {
	// ArticleID may be set to make a retried request idempotent; empty means
	// a new id.
	ArticleID string
	Title     string
	Summary   string
	Body      string
	Tags      []string
	Meta      Meta
}

// ArticleResult is what an article command reports.
type ArticleResult struct {
	ArticleID string
	Slug      string
	// Position is the global position of the last event appended; zero when
	// nothing changed.
	Position eventstore.Position
}

// PublishArticle claims a slug made from the title (base, base-2, base-3,
// … until one is free) and starts the article stream under it. The draft is
// checked first, so a bad one claims nothing. A crash between the claim and
// the article leaves a claimed slug without an article; the slug is lost
// but nothing is inconsistent, and a retry with the same ArticleID reuses it.
// Errors: *article.FieldError (article.ErrInvalid),
// article.ErrAlreadyPublished, ErrUnavailable, ErrConflict.
func (h *Content) PublishArticle(ctx context.Context, cmd PublishArticle) (ArticleResult, error) {
	id, err := newID(cmd.ArticleID)
	if err != nil {
		return ArticleResult{}, err
	}
	if !article.ValidID(id) {
		return ArticleResult{}, &article.FieldError{Field: "article_id", Reason: "invalid", Message: "must be a lowercase UUID"}
	}
	draft, err := article.Check(article.Draft{Title: cmd.Title, Summary: cmd.Summary, Body: cmd.Body, Tags: cmd.Tags})
	if err != nil {
		return ArticleResult{}, err
	}
	existing, err := h.loadArticle(ctx, id)
	if err != nil {
		return ArticleResult{}, err
	}
	if existing.Published() {
		return ArticleResult{}, article.ErrAlreadyPublished
	}
	slug, err := h.claimSlug(ctx, id, article.Slugify(draft.Title), cmd.Meta)
	if err != nil {
		return ArticleResult{}, err
	}
	pos, err := h.changeArticle(ctx, id, cmd.Meta, func(a *article.Article, now time.Time) ([]article.Event, error) {
		return a.Publish(id, slug, draft, now)
	})
	if err != nil {
		return ArticleResult{}, err
	}
	return ArticleResult{ArticleID: id, Slug: slug, Position: pos}, nil
}

// claimSlug appends SlugClaimed to the first free candidate's stream with
// expected version "no stream"; a candidate already claimed by this article
// (a retry) is reused.
func (h *Content) claimSlug(ctx context.Context, articleID, base string, meta Meta) (string, error) {
	for n := 1; n <= h.maxSlugSuffix; n++ {
		slug := article.SlugCandidate(base, n)
		stream := article.SlugStreamID(slug)
		now := h.now()
		events, err := article.SlugClaimFromHistory(nil).Claim(articleID, slug, now)
		if err != nil {
			return "", err
		}
		data, err := stamp(events, article.Encode, meta, now)
		if err != nil {
			return "", err
		}
		_, conflict, err := h.appendOrConflict(ctx, stream, eventstore.NoStream, data)
		if err != nil {
			return "", err
		}
		if !conflict {
			return slug, nil
		}
		history, err := readStream(ctx, h.store, stream, article.Decode)
		if err != nil {
			return "", err
		}
		if article.SlugClaimFromHistory(history).ClaimedBy() == articleID {
			return slug, nil
		}
	}
	return "", fmt.Errorf("slug %q and its %d suffixes are all taken: %w", base, h.maxSlugSuffix, ErrConflict)
}

// UpdateArticle is an editor's change to a published article. The slug
// stays as it was published.
type UpdateArticle struct {
	ArticleID string
	Changes   article.Changes
	Meta      Meta
}

// UpdateArticle records the fields that changed; a change to nothing new
// appends nothing and reports a zero position.
// Errors: *article.FieldError, article.ErrNotFound, article.ErrWithdrawn,
// ErrUnavailable, ErrConflict.
func (h *Content) UpdateArticle(ctx context.Context, cmd UpdateArticle) (ArticleResult, error) {
	var slug string
	pos, err := h.changeArticle(ctx, cmd.ArticleID, cmd.Meta, func(a *article.Article, now time.Time) ([]article.Event, error) {
		slug = a.Slug()
		return a.Update(cmd.Changes, now)
	})
	if err != nil {
		return ArticleResult{}, err
	}
	return ArticleResult{ArticleID: cmd.ArticleID, Slug: slug, Position: pos}, nil
}

// WithdrawArticle takes an article off the site. Its slug stays claimed, so
// an old link never shows a different article.
type WithdrawArticle struct {
	ArticleID string
	Meta      Meta
}

// WithdrawArticle records the withdrawal; withdrawing twice is a no-op.
// Errors: article.ErrNotFound, ErrUnavailable, ErrConflict.
func (h *Content) WithdrawArticle(ctx context.Context, cmd WithdrawArticle) (ArticleResult, error) {
	var slug string
	pos, err := h.changeArticle(ctx, cmd.ArticleID, cmd.Meta, func(a *article.Article, now time.Time) ([]article.Event, error) {
		slug = a.Slug()
		return a.Withdraw(now)
	})
	if err != nil {
		return ArticleResult{}, err
	}
	return ArticleResult{ArticleID: cmd.ArticleID, Slug: slug, Position: pos}, nil
}
