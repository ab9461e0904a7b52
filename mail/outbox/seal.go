package outbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multimedia-portal/multimedia/mail"
)

// The HKDF labels of the keys derived from the server secret. A new label
// version makes new keys; mail sealed under an old one cannot be opened
// and is given up.
const (
	sealLabel = "multimedia/mail-outbox/seal/v1"
	tagLabel  = "multimedia/mail-outbox/recipient-tag/v1"
)

// errUnsealable is returned by open for a row that does not decrypt (the
// secret changed, or the row was altered).
var errUnsealable = errors.New("outbox: queued mail does not decrypt (SECRET_KEY changed, or the row was altered)")

// sealer seals queued mail with AES-256-GCM and tags recipients for logs.
type sealer struct {
	aead   cipher.AEAD
	tagKey []byte
}

func newSealer(secret []byte) (*sealer, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, sealLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("outbox: derive the sealing key: %w", err)
	}
	tagKey, err := hkdf.Key(sha256.New, secret, nil, tagLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("outbox: derive the tag key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &sealer{aead: aead, tagKey: tagKey}, nil
}

// sealed is what is encrypted: everything of the message but its ids.
type sealed struct {
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	Date    time.Time `json:"date"`
}

// additionalData binds a sealed body to its row: it cannot be moved to
// another row, kind or Message-ID.
func additionalData(id string, kind mail.Kind, messageID string) []byte {
	return []byte(id + "\x00" + string(kind) + "\x00" + messageID)
}

// seal returns nonce || ciphertext of msg.
func (s *sealer) seal(id string, kind mail.Kind, msg mail.Message) ([]byte, error) {
	plain, err := json.Marshal(sealed{To: msg.To, Subject: msg.Subject, Text: msg.Text, Date: msg.Date})
	if err != nil {
		return nil, fmt.Errorf("outbox: encode: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("outbox: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, additionalData(id, kind, msg.MessageID)), nil
}

// open reverses seal.
func (s *sealer) open(id string, kind mail.Kind, messageID string, box []byte) (mail.Message, error) {
	n := s.aead.NonceSize()
	if len(box) < n {
		return mail.Message{}, errUnsealable
	}
	plain, err := s.aead.Open(nil, box[:n], box[n:], additionalData(id, kind, messageID))
	if err != nil {
		return mail.Message{}, errUnsealable
	}
	var m sealed
	if err := json.Unmarshal(plain, &m); err != nil {
		return mail.Message{}, errUnsealable
	}
	return mail.Message{To: m.To, Subject: m.Subject, Text: m.Text, MessageID: messageID, Date: m.Date}, nil
}

// recipientTag is the full keyed tag of the normalised address, stored
// with the mail so that an erasure finds it (Forget).
func (s *sealer) recipientTag(addr string) []byte {
	m := hmac.New(sha256.New, s.tagKey)
	m.Write([]byte("recipient\x00"))
	m.Write([]byte(strings.ToLower(strings.TrimSpace(addr))))
	return m.Sum(nil)
}

// tag is a short keyed tag of the normalised address for log lines: it
// correlates the lines of one recipient, and only someone holding the
// server secret can check it against an address.
func (s *sealer) tag(addr string) string {
	m := hmac.New(sha256.New, s.tagKey)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(addr))))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
