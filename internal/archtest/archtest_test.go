package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is this repository's module path.
const module = "github.com/multimedia-portal/multimedia/"

// rule is what one package may import, as its doc.go says. Paths are
// relative to the module. The standard library is always allowed, except
// what noIO forbids.
type rule struct {
	// internal lists the packages of this module the package may import.
	internal []string
	// external lists module path prefixes of third-party code it may import.
	external []string
	// onlyCmd: an adapter or wiring-only package; nothing but cmd/ (and
	// tests) may import it.
	onlyCmd bool
	// testSupport: only tests (and other test support) may import it.
	testSupport bool
	// noIO: domain code; it may not import the standard library's I/O
	// packages (see ioPackages).
	noIO bool
	// anything: cmd/, the wiring, may import everything.
	anything bool
}

// Third-party modules, by what the rows call them.
const (
	uuid      = "github.com/google/uuid"
	pgx       = "github.com/jackc/pgx/v5"
	prom      = "github.com/prometheus/client_golang"
	mux       = "github.com/gorilla/mux"
	esdbGo    = "github.com/EventStore/EventStore-Client-Go/v4"
	grpc      = "google.golang.org/grpc"
	watermill = "github.com/ThreeDotsLabs/watermill"
)

// rules is the table: one row per package, matching its doc.go.
var rules = map[string]rule{
	"domain/account":             {internal: []string{"domain/internal/eventcodec", "domain/internal/field", "domain/download"}, external: []string{"github.com/rivo/uniseg"}, noIO: true},
	"domain/download":            {internal: []string{"domain/internal/eventcodec"}, noIO: true},
	"domain/article":             {internal: []string{"domain/internal/eventcodec", "domain/internal/field"}, noIO: true},
	"domain/video":               {internal: []string{"domain/internal/eventcodec", "domain/internal/field"}, noIO: true},
	"domain/internal/eventcodec": {noIO: true},
	"domain/internal/field":      {noIO: true},
	"domain/streams":             {internal: []string{"domain/account", "domain/article", "domain/video", "domain/download"}, noIO: true},

	"eventstore":                     {external: []string{uuid}},
	"eventstore/postgres":            {internal: []string{"eventstore"}, external: []string{uuid, pgx}, onlyCmd: true},
	"eventstore/esdb":                {internal: []string{"eventstore"}, external: []string{esdbGo, grpc}, onlyCmd: true},
	"eventstore/memory":              {internal: []string{"eventstore"}, external: []string{uuid}},
	"eventstore/esdb/esdbtestdouble": {external: []string{esdbGo, grpc, uuid}, testSupport: true},
	"eventstore/eventstoretest":      {internal: []string{"eventstore"}, external: []string{uuid}, testSupport: true},

	"apperr":                      {internal: []string{"domain/account", "domain/article", "domain/download", "domain/video", "eventstore"}},
	"commands":                    {internal: []string{"apperr", "domain/account", "domain/article", "domain/video", "domain/download", "eventstore", "mail"}, external: []string{uuid}},
	"adapters/postgres/sessions":  {internal: []string{"commands", "eventstore"}, external: []string{pgx}, onlyCmd: true},
	"adapters/postgres/phantoms":  {internal: []string{"commands"}, external: []string{pgx}, onlyCmd: true},
	"adapters/postgres/snapshots": {internal: []string{"commands"}, external: []string{pgx}, onlyCmd: true},
	"auth/password":               {external: []string{"golang.org/x/crypto"}},
	"adapters/postgres/datakeys":  {internal: []string{"commands", "domain/account"}, external: []string{uuid, pgx}, onlyCmd: true},

	"projections":          {internal: []string{"apperr", "eventstore"}, external: []string{watermill, uuid, pgx, prom}},
	"projections/accounts": {internal: []string{"apperr", "domain/account", "eventstore", "platform/pgerr", "projections"}, external: []string{uuid, pgx}},
	"projections/content":  {internal: []string{"apperr", "eventstore", "platform/pgerr", "projections"}, external: []string{uuid, pgx}},
	"projections/catalog":  {internal: []string{"projections", "projections/accounts", "projections/content"}},

	"audit": {internal: []string{"apperr", "domain/account", "domain/download", "eventstore"}, external: []string{uuid}},

	"httpapi": {internal: []string{"apperr", "commands", "projections", "projections/content", "audit", "domain/account", "domain/article",
		"domain/video", "eventstore", "portal", "auth/password"}, external: []string{uuid, mux, prom, "golang.org/x/time"}},
	"httpapi/apiclient": {external: []string{"github.com/oapi-codegen/runtime", "go.yaml.in/yaml/v3"}},
	"portal":            {external: []string{mux}},

	"mail":         {},
	"mail/outbox":  {internal: []string{"eventstore", "mail"}, external: []string{uuid, pgx, prom}, onlyCmd: true},
	"mail/smtp":    {internal: []string{"mail"}, external: []string{"github.com/wneessen/go-mail"}, onlyCmd: true},
	"mail/mailpit": {testSupport: true},

	"migrations":           {external: []string{pgx, "github.com/pressly/goose/v3"}},
	"platform/pgerr":       {internal: []string{"apperr"}, external: []string{pgx}},
	"platform/pgtest":      {internal: []string{"migrations"}, external: []string{pgx}, testSupport: true},
	"platform/browsertest": {external: []string{"github.com/chromedp/chromedp"}, testSupport: true},

	"cmd/multimedia":      {anything: true},
	"scripts":             {},
	"scripts/readmecheck": {},
	"internal/archtest":   {},
}

// ioPackages are the standard library's doors to the outside world, which
// domain code never opens (time and randomness come from the caller or
// crypto/rand; embedded data is read through embed).
var ioPackages = []string{"os", "os/exec", "net", "net/http", "database/sql", "log", "syscall", "io/fs"}

// pkg is the part of `go list -json` the test reads.
type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-json", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(rules)/2 {
		t.Fatalf("go list found %d packages, the table has %d rows: is the module path %q right?", len(pkgs), len(rules), module)
	}
	return pkgs
}

func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// allowedExternal reports whether imp is inside one of the module prefixes.
func allowedExternal(imp string, prefixes []string) bool {
	for _, p := range prefixes {
		if imp == p || strings.HasPrefix(imp, p+"/") {
			return true
		}
	}
	return false
}

// TestImportRules checks every package's non-test imports against its row.
func TestImportRules(t *testing.T) {
	for _, v := range violations(listPackages(t), rules) {
		t.Error(v)
	}
}

// TestImportRulesCatchViolations feeds the checker a made-up graph that
// breaks each kind of rule once, so that the checker itself cannot pass by
// checking nothing.
func TestImportRulesCatchViolations(t *testing.T) {
	pkgs := []pkg{
		{ImportPath: module + "domain/account", Imports: []string{"os", module + "eventstore/postgres"}},
		{ImportPath: module + "commands", Imports: []string{module + "platform/pgtest", "github.com/jackc/pgx/v5"}},
		{ImportPath: module + "newpkg"},
	}
	got := violations(pkgs, rules)
	for _, want := range []string{
		"domain/account imports os: domain code does no I/O",
		"domain/account imports eventstore/postgres, which its doc.go and row do not allow",
		"domain/account imports the adapter eventstore/postgres, which only cmd/ wires in",
		"commands imports platform/pgtest, which is test support only",
		"commands imports github.com/jackc/pgx/v5, which its doc.go and row do not allow",
		"newpkg has no row in the import rules",
		"the import rules have a row for httpapi, which go list does not find",
	} {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, want) }) {
			t.Errorf("no violation %q in %q", want, got)
		}
	}
}

// violations returns one line per broken rule.
func violations(pkgs []pkg, rules map[string]rule) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module)
		seen[rel] = true
		r, ok := rules[rel]
		if !ok {
			out = append(out, fmt.Sprintf("%s has no row in the import rules: add one matching its doc.go", rel))
			continue
		}
		if r.anything {
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case isStandard(imp):
				if r.noIO && slices.Contains(ioPackages, imp) {
					out = append(out, fmt.Sprintf("%s imports %s: domain code does no I/O", rel, imp))
				}
			case strings.HasPrefix(imp, module):
				dep := strings.TrimPrefix(imp, module)
				if !slices.Contains(r.internal, dep) {
					out = append(out, fmt.Sprintf("%s imports %s, which its doc.go and row do not allow (allowed: %v)", rel, dep, r.internal))
				}
				if rules[dep].testSupport && !r.testSupport {
					out = append(out, fmt.Sprintf("%s imports %s, which is test support only", rel, dep))
				}
				if rules[dep].onlyCmd {
					out = append(out, fmt.Sprintf("%s imports the adapter %s, which only cmd/ wires in", rel, dep))
				}
			default:
				if !allowedExternal(imp, r.external) {
					out = append(out, fmt.Sprintf("%s imports %s, which its doc.go and row do not allow (allowed: %v)", rel, imp, r.external))
				}
			}
		}
	}
	for rel := range rules {
		if !seen[rel] {
			out = append(out, fmt.Sprintf("the import rules have a row for %s, which go list does not find: remove it", rel))
		}
	}
	slices.Sort(out)
	return out
}

// TestDocGoStatesTheRules: every package has a doc.go whose package
// comment says what it may import, naming every package of this module
// that its row allows.
func TestDocGoStatesTheRules(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module)
		b, err := os.ReadFile(filepath.Join(p.Dir, "doc.go"))
		if err != nil {
			t.Errorf("%s has no doc.go: %v", rel, err)
			continue
		}
		comment := packageComment(string(b))
		if !strings.Contains(comment, "may import") {
			t.Errorf("%s/doc.go does not say what the package may import (\"It may import ...\")", rel)
		}
		for _, dep := range rules[rel].internal {
			if !strings.Contains(comment, dep) {
				t.Errorf("%s/doc.go does not name %s, which its row allows it to import", rel, dep)
			}
		}
	}
}

// packageComment returns the comment lines right above the package clause,
// without their "//" markers, joined by spaces.
func packageComment(src string) string {
	var lines []string
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "package ") {
			break
		}
		if after, ok := strings.CutPrefix(trimmed, "//"); ok {
			lines = append(lines, strings.TrimSpace(after))
		} else {
			lines = lines[:0]
		}
	}
	return strings.Join(lines, " ")
}
