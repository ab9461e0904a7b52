package audit_test

import (
	"testing"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

var canonicalCases = []struct{ in, want string }{
	{`{"b":1,"a":[true,false,null],"c":{"z":"x","y":2}}`, `{"a":[true,false,null],"b":1,"c":{"y":2,"z":"x"}}`},
	{` { "a" : 1 , "b" : [ 1 , 2 ] } `, `{"a":1,"b":[1,2]}`},
	{`{"n":1.50}`, `{"n":1.50}`},
	{`{"n":1e2}`, `{"n":100}`},
	{`{"n":1.50e1}`, `{"n":15.0}`},
	{`{"n":1E-2}`, `{"n":0.01}`},
	{`{"n":-0}`, `{"n":0}`},
	{`{"n":-0.0}`, `{"n":0.0}`},
	{`{"n":-12.5e+3}`, `{"n":-12500}`},
	{`{"n":123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`},
	{`{"s":"\u00e9\u2028<>&\"\\\/\t\u0001"}`, "{\"s\":\"é\u2028<>&\\\"\\\\/\\t\\u0001\"}"},
	{`{"a":1,"a":2}`, `{"a":2}`},
	{`"just a string"`, `"just a string"`},
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	for _, c := range canonicalCases {
		got, err := audit.Canonical([]byte(c.in))
		if err != nil {
			t.Fatalf("Canonical(%s): %v", c.in, err)
		}
		if string(got) != c.want {
			t.Errorf("Canonical(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":1} {"b":2}`, `{"a":01}`} {
		if _, err := audit.Canonical([]byte(bad)); err == nil {
			t.Errorf("Canonical(%q): no error", bad)
		}
	}
}

// TestCanonicalSurvivesJSONB: what Postgres jsonb gives back (keys
// reordered, whitespace and numbers rewritten) has the same canonical bytes
// as what went in, which is what lets stored hashes verify.
func TestCanonicalSurvivesJSONB(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := ctxT(t)
	extra := []string{
		`{"occurred_at":"2026-11-28T14:55:16.123456789Z","actor":"anonymous","client_ip":"2001:db8::1","event_id":"0193"}`,
		`{"deep":{"list":[{"b":2,"a":1},[],{}],"x":0.000001,"y":1e-7,"z":-3.25E4}}`,
		`{"unicode":"Zürich – 東京 🎥","ctl":"a\nb\u0007","empty":""}`,
	}
	for _, in := range append(extra, func() []string {
		var s []string
		for _, c := range canonicalCases[:len(canonicalCases)-1] {
			s = append(s, c.in)
		}
		return s
	}()...) {
		var back string
		if err := pool.QueryRow(ctx, "SELECT $1::jsonb::text", in).Scan(&back); err != nil {
			t.Fatalf("jsonb %s: %v", in, err)
		}
		a, err := audit.Canonical([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		b, err := audit.Canonical([]byte(back))
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("jsonb round trip changed the canonical form:\n in:   %s\n back: %s\n %s\n != %s", in, back, a, b)
		}
	}
}
