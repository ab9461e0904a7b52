package article_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/multimedia-portal/multimedia/domain/article"
)

func TestCodecRoundTrip(t *testing.T) {
	title := "New title"
	for _, e := range []article.Event{
		article.ArticlePublished{ArticleID: id, Slug: "nato", Title: "NATO", Body: "Text.", Tags: []string{"nato"}, PublishedAt: t0},
		article.ArticleUpdated{ArticleID: id, Title: &title, UpdatedAt: t0},
		article.ArticleWithdrawn{ArticleID: id, WithdrawnAt: t0},
		article.SlugClaimed{ArticleID: id, Slug: "nato", At: t0},
	} {
		typ, data, err := article.Encode(e)
		if err != nil || typ != e.EventType() {
			t.Fatalf("Encode(%#v) = %q, %v", e, typ, err)
		}
		got, err := article.Decode(typ, data)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("Decode = %#v, %v; want %#v", got, err, e)
		}
	}
	e := article.ArticleWithdrawn{ArticleID: id, WithdrawnAt: t0}
	_, byValue, _ := article.Encode(e)
	if _, byPtr, err := article.Encode(&e); err != nil || string(byPtr) != string(byValue) {
		t.Fatalf("Encode(pointer) = %s, %v; want %s", byPtr, err, byValue)
	}
}

type foreignEvent struct{}

func (foreignEvent) EventType() string { return "Foreign.v1" }

func TestCodecUnknownType(t *testing.T) {
	if _, err := article.Decode("ArticleExploded.v1", []byte(`{}`)); !errors.Is(err, article.ErrUnknownEventType) {
		t.Fatalf("Decode(unknown) = %v", err)
	}
	if _, err := article.Decode(article.SlugClaimedType, []byte(`{not json`)); err == nil || errors.Is(err, article.ErrUnknownEventType) {
		t.Fatalf("Decode(bad JSON) = %v", err)
	}
	if _, _, err := article.Encode(foreignEvent{}); !errors.Is(err, article.ErrUnknownEventType) {
		t.Fatalf("Encode(foreign) = %v", err)
	}
	if _, _, err := article.Encode(nil); !errors.Is(err, article.ErrUnknownEventType) {
		t.Fatalf("Encode(nil) = %v", err)
	}
}
