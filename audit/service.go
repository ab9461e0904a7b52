package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// Errors of the audit queries, each an *apperr.Error; callers branch with
// errors.Is.
var (
	// ErrNotFound: no account with that id or e-mail address has events.
	ErrNotFound = apperr.New(apperr.AccountNotFound, "audit: no such account")
	// ErrInvalidArgument: a malformed id, address, limit or instant.
	ErrInvalidArgument = apperr.New(apperr.InvalidArgument, "audit: invalid argument")
)

// MaxPageSize is the largest History page.
const MaxPageSize = 1000

// Service answers the auditors' questions about accounts from the event
// store alone, so it needs no read model and sees tampering the read
// models would hide.
//
// Its methods fail with ErrInvalidArgument, ErrNotFound, or the store's
// error wrapped with %w, which apperr.From gives its code (a store that
// cannot be reached is Unavailable: 503, not 500).
type Service struct {
	store  eventstore.Store
	now    func() time.Time
	claims *account.CodeHasher
	keys   Keys
}

// Keys opens the personal fields of an account's events: the accounts'
// data key store (commands.DataKeys satisfies it).
type Keys interface {
	// ForReading returns the account's cipher, account.ErasedCipher once
	// its key is destroyed.
	ForReading(ctx context.Context, accountID string) (account.Cipher, error)
}

// Option tunes a Service.
type Option func(*Service)

// WithClock sets the clock that says up to which month download streams
// are looked for (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a Service reading store. Until WithPrivacy gives it
// the keys, sealed personal fields read as account.Erased and addresses
// are found in legacy (unkeyed) claim streams only.
func NewService(store eventstore.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// WithPrivacy returns a copy of s that finds addresses through their keyed
// claim streams (claims) and opens personal fields with the accounts' data
// keys (keys): an erased account's read account.Erased.
func (s *Service) WithPrivacy(claims *account.CodeHasher, keys Keys) *Service {
	c := *s
	c.claims, c.keys = claims, keys
	return &c
}

// cipher returns the account's cipher for reading.
func (s *Service) cipher(ctx context.Context, accountID string) (account.Cipher, error) {
	if s.keys == nil {
		return account.ErasedCipher, nil
	}
	c, err := s.keys.ForReading(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("audit: the key of account %s: %w", accountID, err)
	}
	return c, nil
}

// Store returns the store the service reads.
func (s *Service) Store() eventstore.Store { return s.store }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// checkAccountID accepts a UUID in canonical form and returns it lower-case.
func checkAccountID(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", invalid("account id %q is not a UUID", truncate(id, 64))
	}
	return u.String(), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// AccountIDByEmail finds the account that holds an address now, through
// the e-mail claim stream (CodeHasher.ClaimStreamID of the normalised
// address, or the legacy unkeyed stream of an older store). An erased
// account released its address: it is not found by it any more.
func (s *Service) AccountIDByEmail(ctx context.Context, email string) (string, error) {
	norm, err := account.NormaliseEmail(email)
	if err != nil {
		return "", invalid("email: %v", err)
	}
	streams := []string{norm.LegacyStreamID()}
	if s.claims != nil {
		streams = []string{s.claims.ClaimStreamID(norm), norm.LegacyStreamID()}
	}
	for _, stream := range streams {
		page, err := s.store.ReadStream(ctx, stream, 0, 100)
		if err != nil {
			return "", fmt.Errorf("audit: read the claim of an address: %w", err)
		}
		if len(page) == 0 {
			continue
		}
		history := make([]account.Event, 0, len(page))
		for _, re := range page {
			e, err := account.Decode(re.Type, re.Data)
			if err != nil {
				return "", fmt.Errorf("audit: decode %s version %d: %w", re.StreamID, re.Version, err)
			}
			history = append(history, e)
		}
		if owner := account.EmailClaimFromHistory(history).ClaimedBy(); owner != "" {
			return owner, nil
		}
		break
	}
	return "", fmt.Errorf("%w: no account holds that address", ErrNotFound)
}

// HistoryEvent is one event as an auditor sees it: secrets redacted.
type HistoryEvent struct {
	EventID uuid.UUID `json:"event_id"`
	// Stream is the stream the event is in: the account stream, or one of
	// the account's download streams ("downloads-<id>-<yyyy-mm>").
	Stream string `json:"stream"`
	Type   string `json:"type"`
	// Version is the event's version in Stream.
	Version    uint64              `json:"version"`
	Position   eventstore.Position `json:"position"`
	RecordedAt time.Time           `json:"recorded_at"`
	// OccurredAt is when the command ran (metadata occurred_at), which an
	// import keeps while RecordedAt becomes the import's time.
	OccurredAt time.Time `json:"occurred_at"`
	// Metadata holds event_id, correlation_id, causation_id, actor,
	// client_ip, occurred_at and the chain's prev_hash and hash.
	Metadata json.RawMessage `json:"metadata"`
	Data     json.RawMessage `json:"data"`
}

// HistoryPage is a run of an account's events in global order: those of
// its account stream and of its download streams, merged.
type HistoryPage struct {
	AccountID string `json:"account_id"`
	// Stream is the account stream.
	Stream string         `json:"stream"`
	Events []HistoryEvent `json:"events"`
	// Next is the after_version of the next page; nil on the last page.
	Next *uint64 `json:"next"`
}

// ToHistoryEvent redacts a stored event for an auditor, its personal
// fields (payload and client IP) opened with c: account.Erased where c's
// key is destroyed.
func ToHistoryEvent(re eventstore.RecordedEvent, c account.Cipher) HistoryEvent {
	md := json.RawMessage("{}")
	if len(re.Metadata) > 0 {
		md = redactJSON(openClientIP(re.Metadata, c))
	}
	return HistoryEvent{
		EventID:    re.ID,
		Stream:     re.StreamID,
		Type:       re.Type,
		Version:    re.Version,
		Position:   re.Position,
		RecordedAt: re.RecordedAt.UTC(),
		OccurredAt: eventTime(re),
		Metadata:   md,
		Data:       RedactData(re.Type, openData(re.Type, re.Data, c)),
	}
}

// openData returns an account event's payload with its personal fields
// opened by c; other payloads as they are.
func openData(eventType string, data []byte, c account.Cipher) []byte {
	if !account.HasPersonalData(eventType) {
		return data
	}
	e, err := account.DecodeOpened(eventType, data, c)
	if err != nil {
		// A sealed field that does not open (altered bytes): show it erased
		// rather than the ciphertext; Verify tells about the alteration.
		if e, err = account.DecodeOpened(eventType, data, account.ErasedCipher); err != nil {
			return data
		}
	}
	_, out, err := account.Encode(e)
	if err != nil {
		return data
	}
	return out
}

// openClientIP returns metadata with its sealed client_ip opened by c.
func openClientIP(metadata []byte, c account.Cipher) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(metadata, &m) != nil {
		return metadata
	}
	var ip string
	if raw, ok := m["client_ip"]; !ok || json.Unmarshal(raw, &ip) != nil || !account.IsSealed(ip) {
		return metadata
	}
	opened, err := c.Open(ip)
	if err != nil {
		opened = account.Erased
	}
	m["client_ip"], _ = json.Marshal(opened)
	out, err := json.Marshal(m)
	if err != nil {
		return metadata
	}
	return out
}

// eventTime is when an event happened: its metadata's occurred_at, else
// when it was stored.
func eventTime(re eventstore.RecordedEvent) time.Time {
	var m struct {
		OccurredAt time.Time `json:"occurred_at"`
	}
	if json.Unmarshal(re.Metadata, &m) == nil && !m.OccurredAt.IsZero() {
		return m.OccurredAt.UTC()
	}
	return re.RecordedAt.UTC()
}

// History returns up to limit events of the account's history (its
// account stream and its download streams merged in global order) after
// the first afterVersion+1 of them (afterVersion -1 for the start). The
// cursor counts events of the merged history, so for an account whose
// events are all on its account stream it is the version, as it was
// before downloads had streams of their own. An account without events is
// ErrNotFound.
func (s *Service) History(ctx context.Context, accountID string, afterVersion int64, limit int) (HistoryPage, error) {
	id, err := checkAccountID(accountID)
	if err != nil {
		return HistoryPage{}, err
	}
	if limit < 1 || limit > MaxPageSize {
		return HistoryPage{}, invalid("limit %d is outside 1..%d", limit, MaxPageSize)
	}
	if afterVersion < -1 {
		return HistoryPage{}, invalid("after_version %d is negative", afterVersion)
	}
	streams, err := s.accountStreams(ctx, id, s.now())
	if err != nil {
		return HistoryPage{}, err
	}
	c, err := s.cipher(ctx, id)
	if err != nil {
		return HistoryPage{}, err
	}
	if len(streams) == 0 {
		return HistoryPage{}, fmt.Errorf("%w: account %s has no events", ErrNotFound, id)
	}
	out := HistoryPage{AccountID: id, Stream: streams[0], Events: []HistoryEvent{}}
	skip := afterVersion + 1
	err = walkMerged(ctx, s.store, streams, func(re eventstore.RecordedEvent) (bool, error) {
		if skip > 0 {
			skip--
			return true, nil
		}
		if len(out.Events) == limit {
			next := uint64(afterVersion + int64(limit))
			out.Next = &next
			return false, nil
		}
		out.Events = append(out.Events, ToHistoryEvent(re, c))
		return true, nil
	})
	if err != nil {
		return HistoryPage{}, err
	}
	return out, nil
}

// State is an account as it was at an instant: the fold of its events that
// happened at or before AsOf.
type State struct {
	AccountID string    `json:"account_id"`
	AsOf      time.Time `json:"as_of"`
	// Registered is false when AsOf is before the registration, and after
	// an erasure.
	Registered bool `json:"registered"`
	// Erased is true from the account's erasure on; its personal fields
	// (Email) read account.Erased once its key is destroyed.
	Erased            bool       `json:"erased"`
	ErasedAt          *time.Time `json:"erased_at"`
	Email             string     `json:"email,omitempty"`
	Status            string     `json:"status"`
	Verified          bool       `json:"verified"`
	Newsletter        bool       `json:"newsletter"`
	RegisteredAt      *time.Time `json:"registered_at"`
	VerifiedAt        *time.Time `json:"verified_at"`
	LastLoginAt       *time.Time `json:"last_login_at"`
	FailedLogins      int        `json:"failed_logins"`
	LastFailedLoginAt *time.Time `json:"last_failed_login_at"`
	OpenSessions      int        `json:"open_sessions"`
	PasswordChangedAt *time.Time `json:"password_changed_at"`
	CodesIssued       int        `json:"codes_issued"`
	CodesRejected     int        `json:"codes_rejected"`
	Downloads         int        `json:"downloads"`
	// Events is how many events were folded, of every stream of the
	// account (History lists them in the same order). Version is the
	// account stream's version of the last of its events folded; Position
	// and LastEventAt are those of the last event folded, of any stream
	// (nil when none).
	Events      int                  `json:"events"`
	Version     *uint64              `json:"version"`
	Position    *eventstore.Position `json:"position"`
	LastEventAt *time.Time           `json:"last_event_at"`
}

// Status values of State.
const (
	StatusNotRegistered       = "not_registered"
	StatusPendingVerification = "pending_verification"
	StatusVerified            = "verified"
	StatusErased              = "erased"
)

// Fold builds a State event by event; StateAsOf uses it, tests compare it
// with the account aggregate.
type Fold struct {
	s        State
	sessions map[string]struct{}
	cipher   account.Cipher
}

// NewFold starts the fold of an account as of an instant; its personal
// fields read account.Erased unless WithCipher gives the account's key.
func NewFold(accountID string, asOf time.Time) *Fold {
	return &Fold{s: State{AccountID: accountID, AsOf: asOf.UTC(), Status: StatusNotRegistered},
		sessions: map[string]struct{}{}, cipher: account.ErasedCipher}
}

// WithCipher makes the fold open personal fields with c.
func (f *Fold) WithCipher(c account.Cipher) *Fold {
	f.cipher = c
	return f
}

func ptr[T any](v T) *T { return &v }

// Apply folds one stored event. Unknown types count but change nothing.
func (f *Fold) Apply(re eventstore.RecordedEvent) error {
	s := &f.s
	s.Events++
	s.Position, s.LastEventAt = ptr(re.Position), ptr(eventTime(re))
	if !strings.HasPrefix(re.StreamID, download.StreamPrefix) {
		s.Version = ptr(re.Version)
	}
	e, err := account.DecodeOpened(re.Type, re.Data, f.cipher)
	if err != nil && !errors.As(err, new(*account.UnknownEventTypeError)) {
		// A sealed field that does not open: fold it as erased.
		e, err = account.DecodeOpened(re.Type, re.Data, account.ErasedCipher)
	}
	var unknown *account.UnknownEventTypeError
	if errors.As(err, &unknown) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: %s version %d: %w", re.StreamID, re.Version, err)
	}
	switch e := e.(type) {
	case account.AccountRegistered:
		s.Registered, s.Email, s.Newsletter = true, e.Email, e.Newsletter
		s.RegisteredAt = ptr(e.RegisteredAt.UTC())
		s.Status = StatusPendingVerification
	case account.VerificationCodeIssued:
		s.CodesIssued++
	case account.VerificationCodeRejected:
		s.CodesRejected++
	case account.AccountVerified:
		s.Verified, s.VerifiedAt, s.Status = true, ptr(e.At.UTC()), StatusVerified
	case account.LoggedIn:
		f.sessions[e.SessionID] = struct{}{}
		s.FailedLogins = 0
		s.LastLoginAt = ptr(e.At.UTC())
	case account.LoginFailed:
		s.FailedLogins++
		s.LastFailedLoginAt = ptr(e.At.UTC())
	case account.LoggedOut:
		delete(f.sessions, e.SessionID)
	case account.PasswordResetCompleted:
		clear(f.sessions)
		s.FailedLogins = 0
		s.PasswordChangedAt = ptr(e.At.UTC())
	case account.NewsletterSubscribed:
		s.Newsletter = true
	case account.NewsletterUnsubscribed:
		s.Newsletter = false
	case account.VideoDownloaded:
		s.Downloads++
	case account.AccountErased:
		clear(f.sessions)
		s.Registered, s.Verified, s.Newsletter = false, false, false
		s.Erased, s.ErasedAt, s.Status = true, ptr(e.At.UTC()), StatusErased
	}
	s.OpenSessions = len(f.sessions)
	return nil
}

// State returns the state folded so far.
func (f *Fold) State() State { return f.s }

// HasSession reports whether a session is open in the folded state.
func (f *Fold) HasSession(id string) bool {
	_, ok := f.sessions[id]
	return ok
}

// StateAsOf folds the account's events that happened at or before asOf
// (metadata occurred_at, else the recorded time), stopping at the first
// later one: the state is always that right after one event, never a mix.
func (s *Service) StateAsOf(ctx context.Context, accountID string, asOf time.Time) (State, error) {
	id, err := checkAccountID(accountID)
	if err != nil {
		return State{}, err
	}
	if asOf.IsZero() {
		return State{}, invalid("as_of is missing")
	}
	streams, err := s.accountStreams(ctx, id, minTime(asOf, s.now()))
	if err != nil {
		return State{}, err
	}
	if len(streams) == 0 {
		return State{}, fmt.Errorf("%w: account %s has no events", ErrNotFound, id)
	}
	c, err := s.cipher(ctx, id)
	if err != nil {
		return State{}, err
	}
	f := NewFold(id, asOf).WithCipher(c)
	err = walkMerged(ctx, s.store, streams, func(re eventstore.RecordedEvent) (bool, error) {
		if eventTime(re).After(asOf) {
			return false, nil
		}
		return true, f.Apply(re)
	})
	if err != nil {
		return State{}, err
	}
	return f.State(), nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// VerifyAccount walks the chain of each of the account's streams: its
// account stream and its download streams. The report sums them; Head is
// the latest position checked.
func (s *Service) VerifyAccount(ctx context.Context, accountID string) (Report, error) {
	id, err := checkAccountID(accountID)
	if err != nil {
		return Report{}, err
	}
	streams, err := s.accountStreams(ctx, id, s.now())
	if err != nil {
		return Report{}, err
	}
	if len(streams) == 0 {
		return Report{}, fmt.Errorf("%w: account %s has no events", ErrNotFound, id)
	}
	var total Report
	for _, stream := range streams {
		r, err := VerifyStream(ctx, s.store, stream)
		if err != nil {
			return Report{}, err
		}
		total.Streams += r.Streams
		total.Events += r.Events
		total.Breaks = append(total.Breaks, r.Breaks...)
		if total.Head.Less(r.Head) {
			total.Head = r.Head
		}
	}
	return total, nil
}
