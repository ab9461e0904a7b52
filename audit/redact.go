package audit

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// secretKeys are field names whose values are secrets in any event, known
// or not: hashes of passwords and codes, codes, tokens.
var secretKeys = map[string]bool{
	"password": true, "new_password": true, "password_hash": true,
	"code": true, "code_hash": true, "token": true, "token_hash": true,
	"secret": true, "secret_key": true, "api_key": true,
}

// isSecretKey tells whether a field holds a secret. The chain's own
// prev_hash and hash are public digests and stay.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	if k == PrevHashKey || k == HashKey {
		return false
	}
	return secretKeys[k] || strings.HasSuffix(k, "_hash") || strings.HasSuffix(k, "_token") ||
		strings.HasSuffix(k, "_secret") || strings.HasSuffix(k, "password")
}

// looksSecret catches encoded password hashes wherever they appear.
func looksSecret(s string) bool {
	return strings.HasPrefix(s, "$argon2") || strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") ||
		strings.HasPrefix(s, "$scrypt$") || strings.HasPrefix(s, "$pbkdf2")
}

// RedactData returns an event's payload fit for an auditor: the account
// domain's own Redact for its events, then, for every event, any field
// named like a secret (password, *_hash other than the chain's, code,
// token...) or holding an encoded password hash replaced by "[redacted]".
// A payload that is not JSON is replaced whole.
func RedactData(eventType string, data []byte) json.RawMessage {
	if e, err := account.Decode(eventType, data); err == nil {
		if _, enc, err := account.Encode(account.Redact(e)); err == nil {
			data = enc
		}
	}
	return redactJSON(data)
}

// redactJSON applies the name- and value-based rules to any JSON document.
func redactJSON(doc []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage(`"` + account.Redacted + `"`)
	}
	v = redactValue(v)
	var buf bytes.Buffer
	if err := writeCanonical(&buf, v); err != nil {
		return json.RawMessage(`"` + account.Redacted + `"`)
	}
	return buf.Bytes()
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if isSecretKey(k) {
				if e != nil && e != "" {
					x[k] = account.Redacted
				}
				continue
			}
			x[k] = redactValue(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
		return x
	case string:
		if looksSecret(x) {
			return account.Redacted
		}
	}
	return v
}
