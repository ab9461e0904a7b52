package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MaxPasswordBytes bounds the input of Hash and Verify; callers should reject
// longer input before calling, so a huge body costs no hashing.
const MaxPasswordBytes = 1024

// Errors of this package.
var (
	// ErrPasswordTooLong is returned for input over MaxPasswordBytes.
	ErrPasswordTooLong = errors.New("password too long")
	// ErrMalformedHash is returned when a stored hash cannot be parsed.
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrWeakParams is returned when Params are below the OWASP minimum.
	ErrWeakParams = errors.New("argon2id parameters below the minimum")
)

// Params are the argon2id cost parameters.
type Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen is the salt length in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// MinParams are OWASP's minimum argon2id settings (m=19 MiB, t=2, p=1);
// Hash refuses anything weaker.
var MinParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// DefaultParams are the parameters used for new hashes.
var DefaultParams = MinParams

// Upper bounds on parameters read from a stored hash, so a corrupted or
// hostile row cannot make a verification allocate gigabytes.
const (
	maxMemory  = 1 << 20 // KiB (1 GiB)
	maxTime    = 64
	maxSaltLen = 64
	maxKeyLen  = 64
)

// Validate reports whether p is at least MinParams.
func (p Params) Validate() error {
	if p.Memory < MinParams.Memory || p.Time < MinParams.Time || p.Threads < MinParams.Threads ||
		p.SaltLen < MinParams.SaltLen || p.KeyLen < MinParams.KeyLen {
		return fmt.Errorf("%w: need m>=%d t>=%d p>=%d salt>=%d key>=%d", ErrWeakParams,
			MinParams.Memory, MinParams.Time, MinParams.Threads, MinParams.SaltLen, MinParams.KeyLen)
	}
	if p.Memory > maxMemory || p.Time > maxTime || p.SaltLen > maxSaltLen || p.KeyLen > maxKeyLen {
		return fmt.Errorf("%w: parameters too large", ErrWeakParams)
	}
	return nil
}

// below reports whether p is weaker than cur in any parameter.
func (p Params) below(cur Params) bool {
	return p.Memory < cur.Memory || p.Time < cur.Time || p.Threads < cur.Threads ||
		p.SaltLen < cur.SaltLen || p.KeyLen < cur.KeyLen
}

// Hasher hashes with its Params; the zero value uses DefaultParams.
type Hasher struct {
	Params Params
}

// New returns a Hasher after checking p against MinParams.
func New(p Params) (Hasher, error) {
	if err := p.Validate(); err != nil {
		return Hasher{}, err
	}
	return Hasher{Params: p}, nil
}

func (h Hasher) params() Params {
	if h.Params == (Params{}) {
		return DefaultParams
	}
	return h.Params
}

// Hash returns the encoded argon2id hash of pw with a fresh 16+ byte salt.
func (h Hasher) Hash(pw string) (string, error) {
	p := h.params()
	if err := p.Validate(); err != nil {
		return "", err
	}
	return hashWith(pw, p)
}

func hashWith(pw string, p Params) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	var key []byte
	withComputeSlot(func() { key = argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen) })
	return encode(p, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses an encoded hash and checks its parameters are within sane
// bounds (not that they are strong: old hashes must still verify).
func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) != parts[3] {
		return Params{}, nil, nil, ErrMalformedHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > maxMemory || p.Time > maxTime ||
		len(salt) < 8 || len(salt) > maxSaltLen || len(key) < 16 || len(key) > maxKeyLen {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

// Verify checks pw against an encoded hash in constant time. needsRehash is
// true when pw is right and the stored parameters are below the Hasher's:
// the caller then stores h.Hash(pw) (event PasswordRehashed).
func (h Hasher) Verify(pw, encoded string) (ok, needsRehash bool, err error) {
	if len(pw) > MaxPasswordBytes {
		return false, false, ErrPasswordTooLong
	}
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	var got []byte
	withComputeSlot(func() { got = argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen) })
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p.below(h.params()), nil
}

// dummySalt is a fixed salt for DummyVerify; its output is never compared
// with anything secret.
var dummySalt = make([]byte, 64)

// DummyVerify costs what Verify costs with the current parameters and
// always fails. Call it for unknown addresses so a login's timing does not
// reveal whether an account exists.
func (h Hasher) DummyVerify(pw string) {
	p := h.params()
	if len(pw) > MaxPasswordBytes {
		pw = pw[:MaxPasswordBytes]
	}
	if p.SaltLen > uint32(len(dummySalt)) {
		p.SaltLen = uint32(len(dummySalt))
	}
	var got []byte
	withComputeSlot(func() { got = argon2.IDKey([]byte(pw), dummySalt[:p.SaltLen], p.Time, p.Memory, p.Threads, p.KeyLen) })
	_ = subtle.ConstantTimeCompare(got, make([]byte, len(got)))
}
