package main

import (
	"strings"
	"testing"
)

const sample = "# Title\n\n" +
	"<!-- readme-check: skip -->\n```sh\nmake run\n```\n\n" +
	"- a list item:\n\n  ```sh\n  set -a; . .dev/tokens.env; set +a   # tokens\n  ```\n\n" +
	"```sh\n$ curl -s localhost:8080/api/x \\\n    -H 'A: b'\n{\"a\":1,\"b\":2}\n\n$ multimedia audit verify   # again; exit status 1\nBROKEN: …\n$ psql <<'SQL'\nSELECT 1;\nSQL\n```\n\n" +
	"    indented, not checked\n\n```\nnot sh either\n```\n"

func TestParse(t *testing.T) {
	blocks, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want 2 (skip marker, non-sh blocks): %+v", len(blocks), blocks)
	}
	if c := blocks[0].Commands; len(c) != 1 || c[0].Text != "set -a; . .dev/tokens.env; set +a   # tokens" {
		t.Errorf("indented block: %+v", c)
	}
	c := blocks[1].Commands
	if len(c) != 3 {
		t.Fatalf("%d commands, want 3: %+v", len(c), c)
	}
	if c[0].Text != "curl -s localhost:8080/api/x \\\n    -H 'A: b'" || c[0].Expected != "{\"a\":1,\"b\":2}" || c[0].Status != 0 {
		t.Errorf("continued command: %+v", c[0])
	}
	if c[1].Status != 1 || c[1].Expected != "BROKEN: …" {
		t.Errorf("announced exit status: %+v", c[1])
	}
	if c[2].Text != "psql <<'SQL'\nSELECT 1;\nSQL" || c[2].Expected != "" {
		t.Errorf("here-document: %+v", c[2])
	}
}

func TestCheckOutput(t *testing.T) {
	for _, tc := range []struct {
		name, expected, actual string
		ok                     bool
	}{
		{"same fields, other values", `{"a":1,"b":"x"}`, `{"b":"y","a":2}`, true},
		{"a field added since", `{"a":1}`, `{"a":1,"c":3}`, false},
		{"an error instead", `{"status":"ok"}`, `{"error":{"code":"x"}}`, false},
		{"another error code", `{"error":{"code":"a"}}`, `{"error":{"code":"b"}}`, false},
		{"shortened reply names the fields", `{"from":"…","total":1,"series":[ …]}`, `{"from":"x","total":2,"series":[]}`, true},
		{"shortened reply misses one", `{"from":"…","series":[ …]}`, `{"from":"x","total":2,"series":[]}`, false},
		{"not JSON", `{"a":1}`, `Not Found`, false},
		{"status line", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 401 Unauthorized\r\nX: y", true},
		{"other status", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 200 OK", false},
		{"text", "seed: done", "anything", true},
		{"nothing printed", "seed: done", "", false},
		{"no reply shown", "", "anything", true},
	} {
		if got := CheckOutput(tc.expected, tc.actual); (got == "") != tc.ok {
			t.Errorf("%s: CheckOutput = %q, want ok=%v", tc.name, got, tc.ok)
		}
	}
}
