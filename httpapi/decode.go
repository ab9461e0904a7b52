package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/multimedia-portal/multimedia/apperr"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 400
// before anything is parsed, let alone hashed.
const MaxBodyBytes = 64 << 10

// decodeJSON reads a JSON object into dst, a pointer to a struct whose
// fields carry json tags; fields tagged `required:"true"` must be present.
// Every problem gets a 400 *Error naming the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &apperr.Error{Code: apperr.UnsupportedMediaType,
				Message: fmt.Sprintf("Content-Type %q: send application/json", ct)}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return badRequest(apperr.BodyTooLarge, fmt.Sprintf("the request body is over %d bytes", MaxBodyBytes), map[string]any{"limit_bytes": MaxBodyBytes})
		}
		return badRequest(apperr.UnreadableBody, "the request body could not be read", nil)
	}
	// encoding/json would replace invalid UTF-8, and escaped lone
	// surrogates, with U+FFFD without a word: a different string from the
	// one sent (an address or a password). Refuse instead.
	if !utf8.Valid(body) {
		return badRequest(apperr.InvalidUTF8, "the request body is not valid UTF-8", nil)
	}
	if loneSurrogate(body) {
		return badRequest(apperr.InvalidUTF8, "the request body has a \\u escape of half a UTF-16 surrogate pair", nil)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return badRequest(apperr.InvalidJSON, "the request body must be a JSON object", nil)
	}
	known, required := fieldsOf(dst)
	var unknown []string
	for name := range fields {
		if _, ok := known[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return badRequest(apperr.UnknownField, fmt.Sprintf("unknown field %q", unknown[0]), map[string]any{"field": unknown[0], "unknown_fields": unknown})
	}
	for _, name := range required {
		if raw, ok := fields[name]; !ok || string(raw) == "null" {
			return badRequest(apperr.MissingField, fmt.Sprintf("field %q is required", name), map[string]any{"field": name})
		}
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return badRequest(apperr.WrongType, fmt.Sprintf("field %q must be a %s", typeErr.Field, jsonKind(typeErr.Type)),
				map[string]any{"field": typeErr.Field, "expected": jsonKind(typeErr.Type)})
		}
		return badRequest(apperr.InvalidJSON, "the request body is not valid JSON", nil)
	}
	return nil
}

// loneSurrogate reports whether a JSON text escapes a UTF-16 surrogate
// (\uD800-\uDFFF) that is not half of a high-low pair.
func loneSurrogate(body []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range body[i+2 : i+6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // an escape such as \\ or \": skip the escaped character
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if lo, ok := hex4(i + 6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11
				continue
			}
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

// fieldsOf lists the json names of dst's fields and the required ones.
func fieldsOf(dst any) (map[string]struct{}, []string) {
	t := reflect.TypeOf(dst).Elem()
	known := map[string]struct{}{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = struct{}{}
		if f.Tag.Get("required") == "true" {
			required = append(required, name)
		}
	}
	return known, required
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "object"
}
