package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Personal data in events (the address, the client IP, the keyed client
// tags) is sealed under a data key of the account it belongs to, so that
// destroying that one key (crypto-shredding) makes it unreadable everywhere
// it was copied, while the events, and the hash chain over their stored
// bytes, stay as they are.

// Erased is what a personal field reads as once its account's key is
// destroyed.
const Erased = "[erased]"

// sealedPrefix starts every sealed field: version 1 is AES-256-GCM with a
// 12-byte random nonce, base64 (standard, unpadded) of nonce || ciphertext.
const sealedPrefix = "pii1:"

// DataKeyBytes is the size of an account's data key (AES-256).
const DataKeyBytes = 32

// ErrAccountErased is returned when something needs an account's data key
// after the account was erased: nothing personal may be written under a
// destroyed key, and the account accepts no command any more.
var ErrAccountErased = errors.New("account is erased")

// Cipher seals and opens the personal fields of one account. A Cipher whose
// key was destroyed opens every sealed field as Erased and refuses to seal.
type Cipher interface {
	// Seal returns the sealed text of a personal value ("" stays "").
	Seal(plain string) (string, error)
	// Open returns the plain value of a sealed one, Erased when the key is
	// gone, and a value that was never sealed (events written before
	// sealing existed) as it is.
	Open(sealed string) (string, error)
}

// IsSealed reports whether s is a sealed personal value.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// NewCipher returns the cipher of accountID under its data key. The
// account id is bound into every seal as additional data, so a sealed
// value copied into another account's events does not open there.
func NewCipher(accountID string, dataKey []byte) (Cipher, error) {
	if len(dataKey) != DataKeyBytes {
		return nil, invalidArg("data key must be %d bytes", DataKeyBytes)
	}
	if !validAccountID(accountID) {
		return nil, invalidArg("account id must be a UUID")
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return &gcmCipher{aead: aead, ad: []byte("multimedia/pii/v1/" + strings.ToLower(accountID))}, nil
}

type gcmCipher struct {
	aead cipher.AEAD
	ad   []byte
}

func (c *gcmCipher) Seal(plain string) (string, error) {
	if plain == "" || IsSealed(plain) {
		return plain, nil
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: draw a nonce: %w", err)
	}
	out := c.aead.Seal(nonce, nonce, []byte(plain), c.ad)
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

func (c *gcmCipher) Open(sealed string) (string, error) {
	if !IsSealed(sealed) {
		return sealed, nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(sealedPrefix):])
	if err != nil || len(raw) < c.aead.NonceSize()+c.aead.Overhead() {
		return "", errors.New("open a sealed field: not base64 of nonce and ciphertext")
	}
	n := c.aead.NonceSize()
	plain, err := c.aead.Open(nil, raw[:n], raw[n:], c.ad)
	if err != nil {
		return "", fmt.Errorf("open a sealed field: %w", err)
	}
	return string(plain), nil
}

// ErasedCipher is the cipher of an account whose key is destroyed (or that
// never had one): it opens sealed fields as Erased, passes fields that were
// never sealed through, and refuses to seal with ErrAccountErased.
var ErasedCipher Cipher = erasedCipher{}

type erasedCipher struct{}

func (erasedCipher) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return "", ErrAccountErased
}

func (erasedCipher) Open(sealed string) (string, error) {
	if IsSealed(sealed) {
		return Erased, nil
	}
	return sealed, nil
}

// personal returns pointers to the personal fields of *e, a pointer to a
// value of a registered event type.
func personal(e any) []*string {
	switch v := e.(type) {
	case *AccountRegistered:
		return []*string{&v.Email}
	case *VerificationCodeIssued:
		return []*string{&v.Client}
	case *VerificationCodeRejected:
		return []*string{&v.Client}
	}
	return nil
}

// mapPersonal returns a copy of e with f applied to each personal field.
func mapPersonal(e Event, f func(string) (string, error)) (Event, error) {
	v := codec.Value(e)
	var (
		out Event
		err error
	)
	switch x := v.(type) {
	case AccountRegistered:
		err = mapFields(&x, f)
		out = x
	case VerificationCodeIssued:
		err = mapFields(&x, f)
		out = x
	case VerificationCodeRejected:
		err = mapFields(&x, f)
		out = x
	default:
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func mapFields(p any, f func(string) (string, error)) error {
	for _, s := range personal(p) {
		v, err := f(*s)
		if err != nil {
			return err
		}
		*s = v
	}
	return nil
}

// Seal returns a copy of e with its personal fields sealed by c.
func Seal(e Event, c Cipher) (Event, error) {
	if c == nil {
		return nil, invalidArg("nil cipher")
	}
	return mapPersonal(e, c.Seal)
}

// Open returns a copy of e with its personal fields opened by c (Erased
// where the key is destroyed).
func Open(e Event, c Cipher) (Event, error) {
	if c == nil {
		return nil, invalidArg("nil cipher")
	}
	return mapPersonal(e, c.Open)
}

// EncodeSealed is Encode with the personal fields sealed by c: the one way
// account events become stored bytes.
func EncodeSealed(e Event, c Cipher) (eventType string, data []byte, err error) {
	if e == nil {
		return codec.Encode(e)
	}
	sealed, err := Seal(e, c)
	if err != nil {
		return "", nil, err
	}
	return codec.Encode(sealed)
}

// DecodeOpened is Decode with the personal fields opened by c.
func DecodeOpened(eventType string, data []byte, c Cipher) (Event, error) {
	e, err := codec.Decode(eventType, data)
	if err != nil {
		return nil, err
	}
	return Open(e, c)
}

// HasPersonalData reports whether events of this type carry personal
// fields in their payload (the metadata's client IP aside).
func HasPersonalData(eventType string) bool {
	switch eventType {
	case AccountRegisteredType, VerificationCodeIssuedType, VerificationCodeRejectedType:
		return true
	}
	return false
}
