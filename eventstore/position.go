package eventstore

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a place in the global log. It is two unsigned 64-bit numbers so
// that EventStoreDB's $all position (commit, prepare) fits without loss; the
// Postgres adapter stores (transaction id, sequence) in the same two fields.
// Positions compare lexicographically: first Commit, then Prepare. The zero
// Position is the start of the log, before every event.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event of the log.
var Start = Position{}

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p == Position{} }

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// String formats p as "commit-prepare", the form HTTP replies carry and
// ParsePosition reads back.
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "-" + strconv.FormatUint(p.Prepare, 10)
}

// MarshalText lets a Position travel in JSON as its string form.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePosition reads a Position written by Position.String. A malformed or
// negative value gives an *Error with code ErrorCodeInvalidPosition.
func ParsePosition(s string) (Position, error) {
	commit, prepare, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Position{}, invalidPosition(s, "want two unsigned numbers joined by '-', like 1234-56")
	}
	c, err := strconv.ParseUint(commit, 10, 64)
	if err != nil {
		return Position{}, invalidPosition(s, "commit part is not an unsigned 64-bit number")
	}
	p, err := strconv.ParseUint(prepare, 10, 64)
	if err != nil {
		return Position{}, invalidPosition(s, "prepare part is not an unsigned 64-bit number")
	}
	return Position{Commit: c, Prepare: p}, nil
}

func invalidPosition(s, why string) error {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return &Error{Code: ErrorCodeInvalidPosition, Message: fmt.Sprintf("invalid position %q: %s", s, why)}
}
