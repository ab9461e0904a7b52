package httpapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// positionTokenLabel is the HKDF info that derives the token key from the
// server secret, so that the key is never the one that keys the code HMACs.
const positionTokenLabel = "multimedia httpapi consistency token v1"

// positionTokenPrefix marks (and versions) a consistency token.
const positionTokenPrefix = "ct1."

// ErrInvalidToken is wrapped by every refusal of PositionTokens.Open.
var ErrInvalidToken = errors.New("invalid consistency token")

// PositionTokens turns global positions into opaque consistency tokens and
// back. Write replies carry a token instead of the raw position, and
// ?consistent_with= accepts only tokens: a caller can neither read a
// position (the global log moves when someone else's real account is
// probed, and not for an unknown address) nor compare two tokens (each
// sealing uses a fresh random nonce), nor forge a token for a position it
// was not given (AES-GCM authenticates it). Only the server opens them.
//
// A departure from the first design ("write replies carry the raw
// position; reads accept ?consistent_with=<position>"): the raw position
// is a side channel (issue 10), so callers get the same capability through
// a sealed value (docs/ARCHITECTURE.md, "Projections and queries").
type PositionTokens struct {
	aead cipher.AEAD
}

// NewPositionTokens derives the token key from secret (the server's
// SECRET_KEY, or the one kept in the database) with HKDF-SHA256 under its
// own label. Every instance given the same secret reads every other's
// tokens.
func NewPositionTokens(secret []byte) (*PositionTokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("httpapi: position token secret is %d bytes; need at least 32", len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, nil, positionTokenLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("httpapi: derive the position token key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("httpapi: position token cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("httpapi: position token cipher: %w", err)
	}
	return &PositionTokens{aead: aead}, nil
}

// newRandomPositionTokens is for a server built without a key: its tokens
// are good for this process only.
func newRandomPositionTokens() (*PositionTokens, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("httpapi: position token secret: %w", err)
	}
	return NewPositionTokens(secret)
}

// positionBytes is the plaintext: commit and prepare, big-endian.
const positionBytes = 16

// tokenLen is the length of a token after its prefix, in base64url
// characters: nonce, sealed position and tag.
var tokenLen = base64.RawURLEncoding.EncodedLen(12 + positionBytes + 16)

// Seal returns a fresh token for p; sealing one position twice gives two
// different tokens.
func (t *PositionTokens) Seal(p eventstore.Position) string {
	buf := make([]byte, t.aead.NonceSize(), t.aead.NonceSize()+positionBytes+t.aead.Overhead())
	_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+)
	var plain [positionBytes]byte
	binary.BigEndian.PutUint64(plain[:8], p.Commit)
	binary.BigEndian.PutUint64(plain[8:], p.Prepare)
	sealed := t.aead.Seal(buf, buf, plain[:], []byte(positionTokenLabel))
	return positionTokenPrefix + base64.RawURLEncoding.EncodeToString(sealed)
}

// Open returns the position inside a token Seal made. Every refusal wraps
// ErrInvalidToken and says what is wrong, never what was inside.
func (t *PositionTokens) Open(tok string) (eventstore.Position, error) {
	body, ok := strings.CutPrefix(tok, positionTokenPrefix)
	if !ok {
		return eventstore.Position{}, fmt.Errorf("%w: it must be the \"position\" of a write reply, as given (starting %q)", ErrInvalidToken, positionTokenPrefix)
	}
	if len(body) != tokenLen {
		return eventstore.Position{}, fmt.Errorf("%w: it is %d characters after %q, want %d (cut or padded?)", ErrInvalidToken, len(body), positionTokenPrefix, tokenLen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("%w: it is not base64url text", ErrInvalidToken)
	}
	n := t.aead.NonceSize()
	plain, err := t.aead.Open(nil, raw[:n], raw[n:], []byte(positionTokenLabel))
	if err != nil || len(plain) != positionBytes {
		return eventstore.Position{}, fmt.Errorf("%w: it was not issued by this service (altered, forged, or from another deployment)", ErrInvalidToken)
	}
	return eventstore.Position{Commit: binary.BigEndian.Uint64(plain[:8]), Prepare: binary.BigEndian.Uint64(plain[8:])}, nil
}
