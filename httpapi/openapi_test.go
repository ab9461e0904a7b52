package httpapi

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// documented reads the paths and their methods from openapi.yaml: a path
// is a two-space-indented key starting with "/", its methods the
// four-space-indented keys under it.
func documented(t *testing.T) []string {
	t.Helper()
	var out []string
	inPaths, path := false, ""
	sc := bufio.NewScanner(bytes.NewReader(openapiYAML))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "#"):
		case line == "paths:":
			inPaths = true
		case inPaths && len(line) > 0 && line[0] != ' ':
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inPaths && path != "" && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			m := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch m {
			case "get", "post", "put", "delete", "patch":
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func routed(t *testing.T, r *mux.Router) []string {
	t.Helper()
	var out []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a prefix, not an endpoint
		}
		for _, m := range methods {
			// HEAD beside GET is GET without the body (RFC 9110): implied,
			// not documented as an operation of its own.
			if m == http.MethodHead && slices.Contains(methods, http.MethodGet) {
				continue
			}
			out = append(out, m+" "+tpl)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	s := newTestServer(t)
	got, want := documented(t), routed(t, s.Router())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("openapi.yaml and the router differ\n documented:\n  %s\n routed:\n  %s",
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(got) < 10 {
		t.Fatalf("only %d operations documented", len(got))
	}
	rec := doRequest(t, s, http.MethodGet, "/openapi.yaml", "", nil)
	if rec.Code != http.StatusOK || !bytes.HasPrefix(rec.Body.Bytes(), []byte("openapi: 3")) {
		t.Fatalf("GET /openapi.yaml: status %d, body starts %q", rec.Code, rec.Body.String()[:min(20, rec.Body.Len())])
	}
}
