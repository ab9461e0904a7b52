package httpapi

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// clientTagLabel is the HKDF info of the request log's client tag key.
const clientTagLabel = "multimedia request log client tag v1"

// NewClientTagKey derives, from the server secret, the key of the tags
// the request log names clients by. A client IP is personal data that an
// erasure cannot take back out of a log already written, and the log's
// request_id is the correlation_id every event of the request keeps in
// clear: a log line with the IP would tie the IP to the account for as
// long as the log is kept. A keyed tag still shows which requests came
// from one client, and opens to nobody without the secret (an unkeyed
// hash of an IPv4 address is reversed by trying all 2^32).
func NewClientTagKey(secret []byte) ([]byte, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("httpapi: client tag secret is %d bytes; need at least 32", len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, nil, clientTagLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("httpapi: derive the client tag key: %w", err)
	}
	return key, nil
}

func newRandomClientTagKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("httpapi: client tag key: %w", err)
	}
	return key, nil
}

// clientTag is the request log's name for a client IP: 16 hex digits of
// its HMAC-SHA256 under key; "" for no IP.
func clientTag(key []byte, ip string) string {
	if ip == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
