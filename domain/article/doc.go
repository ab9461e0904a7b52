// Package article holds the article aggregate of the multimedia portal: what
// an editor publishes (title, summary, body, tags), later changes,
// withdrawal, the slug made from the title, and the slug claim that keeps
// every slug unique.
//
// The package decides; it never does I/O. It may import the standard
// library and the shared domain helpers domain/internal/eventcodec (the
// event codec) and domain/internal/field (title, text and id checks) only,
// and time is passed in by the caller. Decision methods never
// mutate the aggregate: they return events that the caller appends to
// "article-<id>" (expected version Article.Version) or, for a slug, to
// "slug-<slug>" with expected version "no stream".
package article
