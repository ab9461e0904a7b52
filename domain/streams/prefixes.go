package streams

import (
	"slices"
	"strings"

	"github.com/multimedia-portal/multimedia/domain/download"
)

// prefixes are the stream families of the portal, each the fixed start of
// a domain StreamID function's result.
var prefixes = []string{
	"account-", // account.StreamID
	"email-",   // CodeHasher.ClaimStreamID (and the legacy unkeyed names): one account per address
	"article-", // article.StreamID
	"slug-",    // article.SlugStreamID: one article per slug
	"video-",   // video.StreamID
	// download.StreamID: one account's downloads of one month.
	download.StreamPrefix,
}

// Prefixes returns the stream prefixes of every stream the service writes,
// a fresh slice each call.
func Prefixes() []string { return slices.Clone(prefixes) }

// Owned reports whether stream belongs to one of the service's families.
func Owned(stream string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(stream, p) })
}
