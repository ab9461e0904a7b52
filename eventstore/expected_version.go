package eventstore

import "strconv"

// NoStreamVersion is the "current version" of a stream that has no events.
const NoStreamVersion int64 = -1

type expectedKind uint8

const (
	expectAny expectedKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// ExpectedVersion is the optimistic-concurrency condition of an append.
// Use Any, NoStream, StreamExists or Exact(v).
type ExpectedVersion struct {
	kind    expectedKind
	version uint64
}

var (
	// Any appends whatever the stream's state.
	Any = ExpectedVersion{kind: expectAny}
	// NoStream appends only if the stream has no events yet.
	NoStream = ExpectedVersion{kind: expectNoStream}
	// StreamExists appends only if the stream has at least one event.
	StreamExists = ExpectedVersion{kind: expectStreamExists}
)

// Exact appends only if the stream's last event has version v.
func Exact(v uint64) ExpectedVersion { return ExpectedVersion{kind: expectExact, version: v} }

// IsAny, IsNoStream, IsStreamExists and Exact let adapters map the condition
// onto their own API.
func (e ExpectedVersion) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedVersion) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedVersion) IsStreamExists() bool { return e.kind == expectStreamExists }

// Exact returns the exact version expected and whether the condition is exact.
func (e ExpectedVersion) Exact() (uint64, bool) { return e.version, e.kind == expectExact }

// Matches reports whether a stream whose last version is current (or
// NoStreamVersion) satisfies the condition.
func (e ExpectedVersion) Matches(current int64) bool {
	switch e.kind {
	case expectNoStream:
		return current == NoStreamVersion
	case expectStreamExists:
		return current != NoStreamVersion
	case expectExact:
		return current >= 0 && uint64(current) == e.version
	}
	return true
}

// String names the condition, for error messages.
func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return "version " + strconv.FormatUint(e.version, 10)
	}
	return "any"
}
