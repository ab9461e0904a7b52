package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The validating middleware of the HTTP test suite: doRequest passes every
// request and its response through checkExchange, which holds them against
// the served OpenAPI document with kin-openapi's openapi3filter. A status
// the operation does not list, a body the document does not describe, or a
// field no schema names fails the test that made the request.
//
// Strictness the served document leaves out on purpose (clients may see
// more fields later: the contract promises the named fields, not only them) is added to the test's copy only:
// every object schema that lists properties is closed
// (additionalProperties: false), so a field the server sends but the
// document does not name is caught.

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func init() {
	// The dashboard's page and assets: bodies kin-openapi has no decoder
	// for; they are read as strings.
	for _, ct := range []string{"text/html", "text/css", "text/javascript", "application/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// loadSpec parses and validates the served document once.
func loadSpec() (routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openapiYAML)
		if err != nil {
			specErr = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = fmt.Errorf("openapi.yaml is not valid: %w", err)
			return
		}
		closeSchemas(doc)
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

// closeSchemas sets additionalProperties: false on every object schema of
// every request and response body that lists properties and says nothing
// about others.
func closeSchemas(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef)
	walk = func(s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		v := s.Value
		seen[v] = true
		if len(v.Properties) > 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			no := false
			v.AdditionalProperties.Has = &no
		}
		for _, p := range v.Properties {
			walk(p)
		}
		walk(v.Items)
		walk(v.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{v.OneOf, v.AnyOf, v.AllOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
}

// authenticate checks that a request carries what an operation's security
// scheme asks for; the server decides whether it is valid.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	r := in.RequestValidationInput.Request
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return errors.New("no bearer token")
		}
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) == "" {
			return errors.New("no " + s.Name + " header")
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if _, err := r.Cookie(s.Name); err != nil {
			return errors.New("no " + s.Name + " cookie")
		}
	}
	return nil
}

// checkExchange holds one request (with its body) and the response
// recorded for it against the document. A request the document forbids
// may only be refused (4xx); a response must be listed, with its headers
// and a body its schema accepts.
func checkExchange(t *testing.T, req *http.Request, reqBody []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if err := exchangeProblem(req, reqBody, rec); err != nil {
		t.Errorf("OpenAPI: %s %s → %d: %v\n  response body: %.400s", req.Method, req.URL.RequestURI(), rec.Code, err, rec.Body.String())
	}
}

func exchangeProblem(req *http.Request, reqBody []byte, rec *httptest.ResponseRecorder) error {
	router, err := loadSpec()
	if err != nil {
		return err
	}
	ctx := context.Background()
	// A copy of the request as the server saw it, with its body.
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	if r.URL.Host == "" {
		r.URL.Host = "example.com"
	}
	route, pathParams, err := router.FindRoute(r)
	if err != nil {
		var re *routers.RouteError
		if !errors.As(err, &re) {
			return err
		}
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed):
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
				return fmt.Errorf("a documented path with an undocumented method must answer 405 with Allow, got %d Allow=%q", rec.Code, rec.Header().Get("Allow"))
			}
		case errors.Is(err, routers.ErrPathNotFound):
			if rec.Code != http.StatusNotFound {
				return fmt.Errorf("an undocumented path must answer 404, got %d", rec.Code)
			}
		default:
			return err
		}
		return checkErrorBody(rec)
	}
	reqIn := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: authenticate,
			MultiError:         true,
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, reqIn); err != nil && rec.Code < 400 {
		return fmt.Errorf("the server accepted a request the document forbids: %w", err)
	}
	// ValidateRequest may have consumed the body; responses do not need it.
	respIn := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	respIn.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		return err
	}
	// kin-openapi accepts any body where a response lists no content:
	// the document must describe every body sent.
	resp := route.Operation.Responses.Status(rec.Code)
	if resp != nil && resp.Value != nil && len(resp.Value.Content) == 0 && rec.Body.Len() > 0 {
		return fmt.Errorf("status %d sends a %q body but the document lists no content", rec.Code, rec.Header().Get("Content-Type"))
	}
	if resp != nil && resp.Value != nil {
		for ct, mt := range resp.Value.Content {
			if mt.Schema == nil {
				return fmt.Errorf("status %d content %s has no schema", rec.Code, ct)
			}
		}
	}
	return nil
}

// checkErrorBody: responses to routes the document does not have carry
// the error body every error has.
func checkErrorBody(rec *httptest.ResponseRecorder) error {
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		return fmt.Errorf("status %d without a JSON error body (Content-Type %q)", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Contains(rec.Body.Bytes(), []byte(`"error":{"code":`)) {
		return fmt.Errorf("status %d body is not an error body", rec.Code)
	}
	return nil
}

// TestOpenAPIDocumentValidates: kin-openapi loads and validates the served
// document (the middleware above depends on it).
func TestOpenAPIDocumentValidates(t *testing.T) {
	if _, err := loadSpec(); err != nil {
		t.Fatal(err)
	}
}

// TestValidatorCatchesWhatTheDocumentDoesNotSay: the middleware fails an
// undocumented status, an unnamed field, a missing required field, a body
// where the document lists none, and a 2xx to a request the document
// forbids; it passes a documented exchange.
func TestValidatorCatchesWhatTheDocumentDoesNotSay(t *testing.T) {
	exchange := func(method, target, reqBody string, status int, ctype, respBody string, headers ...string) error {
		req := httptest.NewRequest(method, target, strings.NewReader(reqBody))
		if reqBody != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		if ctype != "" {
			rec.Header().Set("Content-Type", ctype)
		}
		rec.WriteHeader(status)
		rec.Body.WriteString(respBody)
		return exchangeProblem(req, []byte(reqBody), rec)
	}
	const js = "application/json"
	if err := exchange("GET", "/healthz", "", 200, js, `{"status":"ok"}`); err != nil {
		t.Errorf("documented exchange refused: %v", err)
	}
	for name, err := range map[string]error{
		"undocumented status":    exchange("GET", "/healthz", "", 418, js, `{"status":"ok"}`),
		"unnamed field":          exchange("GET", "/healthz", "", 200, js, `{"status":"ok","extra":1}`),
		"missing required field": exchange("GET", "/healthz", "", 200, js, `{}`),
		"429 without Retry-After": exchange("POST", "/api/accounts", `{"email":"a@b.c","password":"x"}`, 429, js,
			`{"error":{"code":"rate_limited","message":"slow down"}}`),
		"2xx to a forbidden request": exchange("POST", "/api/accounts", `{"email":"a@b.c"}`, 202, js,
			`{"status":"accepted","message":"ok"}`),
		"405 without Allow": exchange("GET", "/api/accounts", "", 405, js, `{"error":{"code":"method_not_allowed","message":"no"}}`),
	} {
		if err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}

// TestOpenAPIOperationsAreComplete: every operation has an operationId and
// a security list (empty for public ones), every response with a JSON body
// lists content with a schema, no schema is a bare object (properties or
// additionalProperties say what it holds), and nullable always comes with
// a type.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapiYAML)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*openapi3.Schema]bool{}
	var check func(where string, s *openapi3.SchemaRef)
	check = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		v := s.Value
		seen[v] = true
		if v.Type.Is("object") && len(v.Properties) == 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			t.Errorf("%s: a bare object schema", where)
		}
		if v.Nullable && (v.Type == nil || len(*v.Type) == 0) {
			t.Errorf("%s: nullable without a type", where)
		}
		for name, p := range v.Properties {
			check(where+"."+name, p)
		}
		check(where+"[]", v.Items)
		check(where+"{}", v.AdditionalProperties.Schema)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			}
			if op.Security == nil {
				t.Errorf("%s: no security (use [] for a public operation)", where)
			}
			for status, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				if len(r.Value.Content) == 0 {
					t.Errorf("%s %s: no content", where, status)
				}
				for ct, mt := range r.Value.Content {
					check(fmt.Sprintf("%s %s %s", where, status, ct), mt.Schema)
				}
			}
		}
	}
}
