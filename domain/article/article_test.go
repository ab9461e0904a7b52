package article_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/domain/article"
)

var (
	t0    = time.Date(2007, 4, 19, 12, 0, 0, 0, time.UTC)
	id    = "0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6b"
	other = "0192f0c1-7a3e-7c4d-8a9b-000000000002"
)

func TestSlugify(t *testing.T) {
	tests := []struct{ title, want string }{
		{"NATO Allies discuss missile defence", "nato-allies-discuss-missile-defence"},
		{"  NATO’s “indivisible security” — 19 April  ", "natos-indivisible-security-19-april"},
		{"Défense antimissile: l'OTAN à Oslo", "defense-antimissile-lotan-a-oslo"},
		{"Straße über Łódź", "strasse-ueber-lodz"},
		{"Ελλάδα NATO", "nato"},
		{"Ελλάδα", "article"},
		{"---", "article"},
		{"C++ & Go/Rust", "c-go-rust"},
		{strings.Repeat("word ", 40), strings.TrimSuffix(strings.Repeat("word-", 16), "-")},
	}
	for _, tt := range tests {
		got := article.Slugify(tt.title)
		if got != tt.want {
			t.Errorf("Slugify(%q) = %q, want %q", tt.title, got, tt.want)
		}
		if !article.ValidSlug(got) || len(got) > article.MaxSlugBaseBytes {
			t.Errorf("Slugify(%q) = %q is not a valid slug", tt.title, got)
		}
	}
	if article.SlugCandidate("a-b", 1) != "a-b" || article.SlugCandidate("a-b", 3) != "a-b-3" {
		t.Fatal("SlugCandidate")
	}
	for _, bad := range []string{"", "-a", "a-", "a--b", "A", "a b", "a_b", "é"} {
		if article.ValidSlug(bad) {
			t.Errorf("ValidSlug(%q) = true", bad)
		}
	}
}

func TestSlugClaim(t *testing.T) {
	c := article.SlugClaimFromHistory(nil)
	events, err := c.Claim(id, "nato", t0)
	if err != nil || len(events) != 1 {
		t.Fatalf("claim: %v %v", events, err)
	}
	c = article.SlugClaimFromHistory(events)
	if c.ClaimedBy() != id {
		t.Fatal(c.ClaimedBy())
	}
	if again, err := c.Claim(id, "nato", t0); err != nil || again != nil {
		t.Fatalf("same article claiming again: %v %v", again, err)
	}
	if _, err := c.Claim(other, "nato", t0); !errors.Is(err, article.ErrSlugTaken) {
		t.Fatalf("other article: %v", err)
	}
}

func draft() article.Draft {
	return article.Draft{Title: "NATO Allies discuss missile defence", Summary: "Indivisible security",
		Body: "At a special meeting at NATO’s Headquarters, 19 April …", Tags: []string{" Missile  Defence ", "NATO"}}
}

func TestPublishAndChange(t *testing.T) {
	events, err := article.FromHistory(nil).Publish(id, "nato-allies-discuss-missile-defence", draft(), t0)
	if err != nil {
		t.Fatal(err)
	}
	p := events[0].(article.ArticlePublished)
	if p.Tags[0] != "missile defence" || p.Tags[1] != "nato" || p.Slug != "nato-allies-discuss-missile-defence" || !p.PublishedAt.Equal(t0) {
		t.Fatalf("published: %+v", p)
	}
	noTags := draft()
	noTags.Tags = nil
	ev, _ := article.FromHistory(nil).Publish(id, "x", noTags, t0)
	if _, data, _ := article.Encode(ev[0]); !strings.Contains(string(data), `"tags":[]`) {
		t.Fatalf("tags must be [] not null: %s", data)
	}
	a := article.FromHistory(events)
	if _, err := a.Publish(id, "x", draft(), t0); !errors.Is(err, article.ErrAlreadyPublished) {
		t.Fatal(err)
	}
	title, tags := "New title", []string{"nato", "missile defence"}
	changes, err := a.Update(article.Changes{Title: &title, Body: &p.Body, Tags: &tags}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	u := changes[0].(article.ArticleUpdated)
	if *u.Title != title || u.Body != nil || u.Summary != nil || (*u.Tags)[0] != "nato" {
		t.Fatalf("only changed fields expected: %+v", u)
	}
	a.Apply(u)
	if a.Slug() != "nato-allies-discuss-missile-defence" || a.Title() != title {
		t.Fatal("slug must stay, title must change")
	}
	if none, err := a.Update(article.Changes{Title: &title}, t0); err != nil || none != nil {
		t.Fatalf("no-op update: %v %v", none, err)
	}
	w, err := a.Withdraw(t0.Add(2 * time.Hour))
	if err != nil || len(w) != 1 {
		t.Fatal(w, err)
	}
	a.Apply(w[0])
	if _, err := a.Update(article.Changes{Title: &title}, t0); !errors.Is(err, article.ErrWithdrawn) {
		t.Fatal(err)
	}
	if again, err := a.Withdraw(t0); err != nil || again != nil {
		t.Fatal(again, err)
	}
	if _, err := article.FromHistory(nil).Withdraw(t0); !errors.Is(err, article.ErrNotFound) {
		t.Fatal(err)
	}
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name          string
		edit          func(*article.Draft)
		field, reason string
	}{
		{"empty title", func(d *article.Draft) { d.Title = " " }, "title", "empty"},
		{"long title", func(d *article.Draft) { d.Title = strings.Repeat("a", article.MaxTitleRunes+1) }, "title", "too_long"},
		{"long summary", func(d *article.Draft) { d.Summary = strings.Repeat("a", article.MaxSummaryRunes+1) }, "summary", "too_long"},
		{"empty body", func(d *article.Draft) { d.Body = "" }, "body", "empty"},
		{"long body", func(d *article.Draft) { d.Body = strings.Repeat("a", article.MaxBodyBytes+1) }, "body", "too_long"},
		{"too many tags", func(d *article.Draft) { d.Tags = strings.Split("a b c d e f g h i j k", " ") }, "tags", "too_many"},
		{"empty tag", func(d *article.Draft) { d.Tags = []string{"nato", "  "} }, "tags[1]", "empty"},
		{"long tag", func(d *article.Draft) { d.Tags = []string{strings.Repeat("t", article.MaxTagRunes+1)} }, "tags[0]", "too_long"},
		{"tag with symbol", func(d *article.Draft) { d.Tags = []string{"<script>"} }, "tags[0]", "invalid_character"},
		{"duplicate tag", func(d *article.Draft) { d.Tags = []string{"NATO", "nato"} }, "tags[1]", "duplicate_tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := draft()
			tt.edit(&d)
			_, err := article.Check(d)
			var fe *article.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, article.ErrInvalid) || fe.Field != tt.field || fe.Reason != tt.reason {
				t.Fatalf("got %v; want field %q reason %q", err, tt.field, tt.reason)
			}
		})
	}
}
