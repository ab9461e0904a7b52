package article

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxSlugBaseBytes bounds the slug made from a title, before any "-N"
// suffix; long titles are cut at a word boundary.
const MaxSlugBaseBytes = 80

// translit spells common non-ASCII letters in ASCII, so that "Défense" gives
// "defense" rather than "dfense". Letters not listed are dropped.
var translit = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "ae", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ğ': "g", 'ģ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'į': "i", 'ı': "i",
	'ķ': "k", 'ĺ': "l", 'ļ': "l", 'ľ': "l", 'ł': "l", 'ñ': "n", 'ń': "n", 'ņ': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "oe", 'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe",
	'ŕ': "r", 'ř': "r", 'ś': "s", 'ş': "s", 'š': "s", 'ș': "s", 'ß': "ss",
	'ť': "t", 'ţ': "t", 'ț': "t", 'þ': "th", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "ue", 'ū': "u",
	'ů': "u", 'ű': "u", 'ų': "u", 'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}

// Slugify makes the base slug of a title: lowercase ASCII letters and digits
// in words joined by single hyphens. Common accented letters are
// transliterated, anything else is a word break or dropped. A title with no
// usable letter gives "article".
func Slugify(title string) string {
	var b strings.Builder
	pendingHyphen := false
	word := func(s string) {
		if pendingHyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		pendingHyphen = false
		b.WriteString(s)
	}
	for _, r := range strings.ToLower(title) {
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			word(string(r))
		case translit[r] != "":
			word(translit[r])
		case r == '\'' || r == '’' || r == '‘':
			// "NATO’s" becomes "natos", not "nato-s".
		case r < 0x80 || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r):
			pendingHyphen = true
		default:
			// A letter of another script is dropped.
		}
	}
	s := b.String()
	if len(s) > MaxSlugBaseBytes {
		s = s[:MaxSlugBaseBytes]
		if i := strings.LastIndexByte(s, '-'); i > 0 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	if s == "" {
		return "article"
	}
	return s
}

// SlugCandidate is the n-th slug tried for base: base itself for n ≤ 1, then
// base-2, base-3, …
func SlugCandidate(base string, n int) string {
	if n <= 1 {
		return base
	}
	return base + "-" + strconv.Itoa(n)
}

// ValidSlug reports whether s has the shape Slugify and SlugCandidate give:
// words of [a-z0-9] joined by single hyphens, at most 100 bytes.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlugBaseBytes+20 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// SlugClaim is the tiny aggregate of a "slug-<slug>" stream: it gives one
// slug to at most one article.
type SlugClaim struct {
	articleID string
	version   int
}

// SlugClaimFromHistory folds the events of a slug stream.
func SlugClaimFromHistory(history []Event) *SlugClaim {
	c := &SlugClaim{}
	for _, e := range history {
		c.version++
		if e, ok := e.(SlugClaimed); ok && c.articleID == "" {
			c.articleID = e.ArticleID
		}
	}
	return c
}

// Claim gives slug to articleID. The same article claiming again is a no-op
// (a retried command); another article gets ErrSlugTaken.
func (c *SlugClaim) Claim(articleID, slug string, now time.Time) ([]Event, error) {
	switch {
	case !ValidID(articleID):
		return nil, fieldErr("article_id", "invalid", "must be a UUID")
	case !ValidSlug(slug):
		return nil, fieldErr("slug", "invalid", "%q is not a slug", slug)
	case c.articleID == articleID:
		return nil, nil
	case c.articleID != "":
		return nil, ErrSlugTaken
	}
	return []Event{SlugClaimed{ArticleID: articleID, Slug: slug, At: now.UTC()}}, nil
}

// ClaimedBy returns the owning article id, or "" when the slug is free.
func (c *SlugClaim) ClaimedBy() string { return c.articleID }

// Version is the number of events applied.
func (c *SlugClaim) Version() int { return c.version }
