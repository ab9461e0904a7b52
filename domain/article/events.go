package article

import "time"

// Event is a fact recorded in an article or slug stream. Its type name is
// explicit and versioned so that stored events stay readable.
type Event interface {
	// EventType returns the stable, versioned type name stored with the event.
	EventType() string
}

// Stable event type names; the read side relies on them.
const (
	ArticlePublishedType = "ArticlePublished.v1"
	ArticleUpdatedType   = "ArticleUpdated.v1"
	ArticleWithdrawnType = "ArticleWithdrawn.v1"
	SlugClaimedType      = "SlugClaimed.v1"
)

// StreamID is the event stream of one article: "article-<id>".
func StreamID(articleID string) string { return "article-" + articleID }

// SlugStreamID is the stream that gives a slug to one article:
// "slug-<slug>". Appending SlugClaimed with "no stream" makes slugs unique.
func SlugStreamID(slug string) string { return "slug-" + slug }

// ArticlePublished starts an article stream.
type ArticlePublished struct {
	ArticleID   string    `json:"article_id"`
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	Body        string    `json:"body"`
	Tags        []string  `json:"tags"`
	PublishedAt time.Time `json:"published_at"`
}

// ArticleUpdated records an editor's change; only changed fields are
// present. The slug never changes, so links keep working.
type ArticleUpdated struct {
	ArticleID string    `json:"article_id"`
	Title     *string   `json:"title,omitempty"`
	Summary   *string   `json:"summary,omitempty"`
	Body      *string   `json:"body,omitempty"`
	Tags      *[]string `json:"tags,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ArticleWithdrawn takes an article off the site.
type ArticleWithdrawn struct {
	ArticleID   string    `json:"article_id"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

// SlugClaimed is the only event of a "slug-<slug>" stream: the slug belongs
// to ArticleID.
type SlugClaimed struct {
	ArticleID string    `json:"article_id"`
	Slug      string    `json:"slug"`
	At        time.Time `json:"at"`
}

// EventType implements Event.
func (ArticlePublished) EventType() string { return ArticlePublishedType }

// EventType implements Event.
func (ArticleUpdated) EventType() string { return ArticleUpdatedType }

// EventType implements Event.
func (ArticleWithdrawn) EventType() string { return ArticleWithdrawnType }

// EventType implements Event.
func (SlugClaimed) EventType() string { return SlugClaimedType }
