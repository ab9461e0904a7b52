package article

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/multimedia-portal/multimedia/domain/internal/field"
)

// Limits of what an editor may publish. MaxBodyBytes stays below the HTTP
// API's request limit so that any article it accepts can be sent.
const (
	MaxTitleRunes   = 200
	MaxSummaryRunes = 1000
	MaxBodyBytes    = 60_000
	MaxTags         = 10
	MaxTagRunes     = 32
)

// Draft is what an editor publishes.
type Draft struct {
	Title   string
	Summary string
	Body    string
	Tags    []string
}

// Changes is an editor's later change; nil fields stay as they are.
type Changes struct {
	Title   *string
	Summary *string
	Body    *string
	Tags    *[]string
}

// Article is the aggregate of one article stream.
type Article struct {
	id        string
	slug      string
	published bool
	withdrawn bool
	title     string
	summary   string
	body      string
	tags      []string
	version   int
}

// FromHistory folds an article's events, oldest first. An empty history
// gives an article that does not exist yet.
func FromHistory(history []Event) *Article {
	a := &Article{}
	for _, e := range history {
		a.Apply(e)
	}
	return a
}

// Apply moves the state on by one event and counts it in Version.
func (a *Article) Apply(e Event) {
	a.version++
	switch e := e.(type) {
	case ArticlePublished:
		a.id, a.slug, a.published = e.ArticleID, e.Slug, true
		a.title, a.summary, a.body, a.tags = e.Title, e.Summary, e.Body, slices.Clone(e.Tags)
	case ArticleUpdated:
		if e.Title != nil {
			a.title = *e.Title
		}
		if e.Summary != nil {
			a.summary = *e.Summary
		}
		if e.Body != nil {
			a.body = *e.Body
		}
		if e.Tags != nil {
			a.tags = slices.Clone(*e.Tags)
		}
	case ArticleWithdrawn:
		a.withdrawn = true
	}
}

// Check validates and normalises a draft (trimmed text, lowercase tags),
// returning the first broken rule as a *FieldError. Commands call it before
// claiming a slug, so that a bad draft claims nothing.
func Check(d Draft) (Draft, error) {
	d.Title = strings.TrimSpace(d.Title)
	d.Summary = strings.TrimSpace(d.Summary)
	d.Body = strings.TrimSpace(d.Body)
	if err := checkTitle(d.Title); err != nil {
		return Draft{}, err
	}
	if err := checkSummary(d.Summary); err != nil {
		return Draft{}, err
	}
	if err := checkBody(d.Body); err != nil {
		return Draft{}, err
	}
	tags, err := normaliseTags(d.Tags)
	if err != nil {
		return Draft{}, err
	}
	d.Tags = tags
	return d, nil
}

// Publish starts the article under the slug its command has claimed.
func (a *Article) Publish(articleID, slug string, d Draft, now time.Time) ([]Event, error) {
	if a.published {
		return nil, ErrAlreadyPublished
	}
	if !ValidID(articleID) {
		return nil, fieldErr("article_id", "invalid", "must be a UUID")
	}
	if !ValidSlug(slug) {
		return nil, fieldErr("slug", "invalid", "%q is not a slug", slug)
	}
	d, err := Check(d)
	if err != nil {
		return nil, err
	}
	return []Event{ArticlePublished{
		ArticleID: articleID, Slug: slug, Title: d.Title, Summary: d.Summary, Body: d.Body,
		Tags: d.Tags, PublishedAt: now.UTC(),
	}}, nil
}

// Update changes a published article. Only fields that differ go into the
// event; a change to nothing new gives no event.
func (a *Article) Update(c Changes, now time.Time) ([]Event, error) {
	if err := a.live(); err != nil {
		return nil, err
	}
	if c.Title == nil && c.Summary == nil && c.Body == nil && c.Tags == nil {
		return nil, fieldErr("body", "no_changes", "name at least one of title, summary, body, tags")
	}
	e := ArticleUpdated{ArticleID: a.id, UpdatedAt: now.UTC()}
	changed := false
	text := func(p *string, check func(string) error, cur string, out **string) error {
		if p == nil {
			return nil
		}
		v := strings.TrimSpace(*p)
		if err := check(v); err != nil {
			return err
		}
		if v != cur {
			*out, changed = &v, true
		}
		return nil
	}
	if err := text(c.Title, checkTitle, a.title, &e.Title); err != nil {
		return nil, err
	}
	if err := text(c.Summary, checkSummary, a.summary, &e.Summary); err != nil {
		return nil, err
	}
	if err := text(c.Body, checkBody, a.body, &e.Body); err != nil {
		return nil, err
	}
	if c.Tags != nil {
		tags, err := normaliseTags(*c.Tags)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(tags, a.tags) {
			e.Tags, changed = &tags, true
		}
	}
	if !changed {
		return nil, nil
	}
	return []Event{e}, nil
}

// Withdraw takes the article off the site; withdrawing again is a no-op.
func (a *Article) Withdraw(now time.Time) ([]Event, error) {
	if !a.published {
		return nil, ErrNotFound
	}
	if a.withdrawn {
		return nil, nil
	}
	return []Event{ArticleWithdrawn{ArticleID: a.id, WithdrawnAt: now.UTC()}}, nil
}

func (a *Article) live() error {
	switch {
	case !a.published:
		return ErrNotFound
	case a.withdrawn:
		return ErrWithdrawn
	}
	return nil
}

// ID returns the article id (empty before publication).
func (a *Article) ID() string { return a.id }

// Slug returns the slug the article was published under.
func (a *Article) Slug() string { return a.slug }

// Published reports whether the article was ever published.
func (a *Article) Published() bool { return a.published }

// Withdrawn reports whether the article was withdrawn.
func (a *Article) Withdrawn() bool { return a.withdrawn }

// Title returns the current title.
func (a *Article) Title() string { return a.title }

// Tags returns a copy of the current tags.
func (a *Article) Tags() []string { return slices.Clone(a.tags) }

// Version is the number of events applied: the stream's expected version.
func (a *Article) Version() int { return a.version }

func checkTitle(t string) error { return field.Title(fieldErr, "title", t, MaxTitleRunes) }

func checkSummary(s string) error { return field.Text(fieldErr, "summary", s, MaxSummaryRunes) }

func checkBody(b string) error {
	switch {
	case b == "":
		return fieldErr("body", "empty", "must not be empty")
	case !utf8.ValidString(b):
		return fieldErr("body", "invalid_utf8", "must be valid UTF-8")
	case len(b) > MaxBodyBytes:
		return fieldErr("body", "too_long", "is over %d bytes", MaxBodyBytes)
	}
	return nil
}

// normaliseTags trims and lowercases each tag and checks the tag rules: at
// most MaxTags, 1 to MaxTagRunes letters, digits, spaces or hyphens each,
// none twice. A nil list becomes an empty one, so events always carry [].
func normaliseTags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, fieldErr("tags", "too_many", "has %d tags, over the limit of %d", len(tags), MaxTags)
	}
	out := make([]string, 0, len(tags))
	for i, t := range tags {
		name := "tags[" + strconv.Itoa(i) + "]"
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		switch {
		case t == "":
			return nil, fieldErr(name, "empty", "must not be empty")
		case !utf8.ValidString(t):
			return nil, fieldErr(name, "invalid_utf8", "must be valid UTF-8")
		case utf8.RuneCountInString(t) > MaxTagRunes:
			return nil, fieldErr(name, "too_long", "is over %d characters", MaxTagRunes)
		case strings.ContainsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '-' }):
			return nil, fieldErr(name, "invalid_character", "%q: use letters, digits, spaces and hyphens only", t)
		case slices.Contains(out, t):
			return nil, fieldErr(name, "duplicate_tag", "%q is listed twice", t)
		}
		out = append(out, t)
	}
	return out, nil
}

// ValidID accepts the canonical lowercase text form of a UUID.
func ValidID(id string) bool { return field.LowerUUID(id) }
