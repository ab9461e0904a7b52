package article

import "github.com/multimedia-portal/multimedia/domain/internal/eventcodec"

// codec maps each stable type name to its event type; the names are written
// out, never derived from Go type names.
var codec = eventcodec.New(eventcodec.Wrapping(ErrUnknownEventType),
	eventcodec.Type[ArticlePublished](ArticlePublishedType),
	eventcodec.Type[ArticleUpdated](ArticleUpdatedType),
	eventcodec.Type[ArticleWithdrawn](ArticleWithdrawnType),
	eventcodec.Type[SlugClaimed](SlugClaimedType),
)

// Decode turns a stored payload back into its event value. An unregistered
// type yields an error matching ErrUnknownEventType.
func Decode(eventType string, data []byte) (Event, error) {
	return codec.Decode(eventType, data)
}

// Encode returns the stable type name and JSON payload of one of this
// package's events (values or pointers). A nil event or another package's
// event yields an error matching ErrUnknownEventType.
func Encode(e Event) (eventType string, data []byte, err error) {
	return codec.Encode(e)
}
