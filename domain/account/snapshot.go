package account

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SnapshotSchema is the version of the snapshot encoding and of the fold it
// captures. Bump it whenever Apply or the Account's fields change: stored
// snapshots of another schema are then ignored and rebuilt from the
// stream, so a snapshot never disagrees with what folding the events gives.
const SnapshotSchema = 1

// snapshot is the encoded state of an Account. It holds personal data and
// secrets' hashes (the address, the password hash, code hashes): whoever
// stores snapshots must protect them like the events, and drop (or
// re-encrypt) them when an account is erased.
type snapshot struct {
	ID              string                    `json:"id"`
	Email           string                    `json:"email"`
	PasswordHash    string                    `json:"password_hash"`
	Registered      bool                      `json:"registered"`
	RegisteredAt    time.Time                 `json:"registered_at"`
	Verified        bool                      `json:"verified"`
	VerifiedAt      time.Time                 `json:"verified_at"`
	Subscribed      bool                      `json:"subscribed"`
	Codes           map[Purpose]snapshotCode  `json:"codes,omitempty"`
	Issues          map[Purpose][]snapshotTry `json:"issues,omitempty"`
	WrongTries      []snapshotTry             `json:"wrong_tries,omitempty"`
	Refusals        []snapshotRefusal         `json:"refusals,omitempty"`
	FailedLogins    int                       `json:"failed_logins"`
	LastFailedLogin time.Time                 `json:"last_failed_login"`
	// Sessions is not part of the JSON: the open sessions follow it (see
	// EncodeSnapshot), where decoding them costs no JSON scanning.
	Sessions string `json:"-"`
	Version  int    `json:"version"`
}

type snapshotCode struct {
	Hash       string    `json:"hash"`
	IssuedAt   time.Time `json:"issued_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	WrongTries int       `json:"wrong_tries"`
	Used       bool      `json:"used"`
}

type snapshotTry struct {
	At     time.Time `json:"at"`
	Client string    `json:"client,omitempty"`
}

type snapshotRefusal struct {
	Purpose Purpose         `json:"purpose"`
	Reason  RejectionReason `json:"reason"`
	At      time.Time       `json:"at"`
}

// EncodeSnapshot returns the account's state as bytes (schema
// SnapshotSchema), so that a later load can start from it instead of from
// the stream's first event. It is the only place an Account becomes bytes;
// the bytes hold personal data (see snapshot). They are one line of JSON,
// a line break, then the open sessions, each "<opened, Unix nanoseconds>
// <id>;": an account may have a hundred open sessions, and in JSON they
// took most of a load's decoding time.
func EncodeSnapshot(a *Account) ([]byte, error) {
	s := snapshot{
		ID: a.id, Email: a.email.s, PasswordHash: a.passwordHash,
		Registered: a.registered, RegisteredAt: a.registeredAt, Verified: a.verified, VerifiedAt: a.verifiedAt,
		Subscribed: a.subscribed, FailedLogins: a.failedLogins, LastFailedLogin: a.lastFailedLogin, Version: a.version,
	}
	var sessions strings.Builder
	for _, id := range slices.Sorted(maps.Keys(a.sessions)) {
		if strings.ContainsAny(id, ";\"\\") || !utf8.ValidString(id) {
			return nil, invalidArg("session id %q has a character the snapshot's session list cannot hold", id)
		}
		sessions.WriteString(strconv.FormatInt(a.sessions[id].UnixNano(), 10))
		sessions.WriteByte(' ')
		sessions.WriteString(id)
		sessions.WriteByte(';')
	}
	s.Sessions = sessions.String()
	if len(a.codes) > 0 {
		s.Codes = make(map[Purpose]snapshotCode, len(a.codes))
		for p, c := range a.codes {
			s.Codes[p] = snapshotCode{Hash: c.hash, IssuedAt: c.issuedAt, ExpiresAt: c.expiresAt, WrongTries: c.wrongTries, Used: c.used}
		}
	}
	if len(a.issues) > 0 {
		s.Issues = make(map[Purpose][]snapshotTry, len(a.issues))
		for p, ts := range a.issues {
			s.Issues[p] = snapshotTries(ts)
		}
	}
	s.WrongTries = snapshotTries(a.wrongTries)
	for r, at := range a.refusals {
		s.Refusals = append(s.Refusals, snapshotRefusal{Purpose: r.purpose, Reason: r.reason, At: at})
	}
	slices.SortFunc(s.Refusals, func(x, y snapshotRefusal) int {
		return cmp.Or(cmp.Compare(x.Purpose, y.Purpose), cmp.Compare(x.Reason, y.Reason))
	})
	head, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(append(head, '\n'), s.Sessions...), nil
}

func snapshotTries(ts []codeTry) []snapshotTry {
	if len(ts) == 0 {
		return nil
	}
	out := make([]snapshotTry, len(ts))
	for i, t := range ts {
		out[i] = snapshotTry{At: t.at, Client: t.client}
	}
	return out
}

// DecodeSnapshot restores an account from EncodeSnapshot's bytes, judged by
// policy (a zero Policy means DefaultPolicy); the caller then applies the
// events after its Version. Bytes that are not a snapshot of this schema
// are an ErrInvalidArgument.
func DecodeSnapshot(policy Policy, data []byte) (*Account, error) {
	var s snapshot
	head, sessions, _ := bytes.Cut(data, []byte{'\n'})
	s.Sessions = string(sessions)
	if err := json.Unmarshal(head, &s); err != nil {
		return nil, invalidArg("snapshot is not valid JSON: %v", err)
	}
	if s.Version < 0 || (s.Registered && !validAccountID(s.ID)) {
		return nil, invalidArg("snapshot has a negative version or a malformed account id")
	}
	a := FromHistory(policy, nil)
	a.id, a.email, a.passwordHash = s.ID, Email{s: s.Email}, s.PasswordHash
	a.registered, a.registeredAt, a.verified, a.verifiedAt = s.Registered, s.RegisteredAt, s.Verified, s.VerifiedAt
	a.subscribed, a.failedLogins, a.lastFailedLogin, a.version = s.Subscribed, s.FailedLogins, s.LastFailedLogin, s.Version
	for p, c := range s.Codes {
		a.codes[p] = &codeState{hash: c.Hash, issuedAt: c.IssuedAt, expiresAt: c.ExpiresAt, wrongTries: c.WrongTries, used: c.Used}
	}
	for p, ts := range s.Issues {
		a.issues[p] = restoreTries(ts)
	}
	a.wrongTries = restoreTries(s.WrongTries)
	for _, r := range s.Refusals {
		a.refusals[refusal{r.Purpose, r.Reason}] = r.At
	}
	for rec := range strings.SplitSeq(strings.TrimSuffix(s.Sessions, ";"), ";") {
		if rec == "" && s.Sessions == "" {
			break
		}
		nanos, id, ok := strings.Cut(rec, " ")
		n, err := strconv.ParseInt(nanos, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, invalidArg("snapshot session %q is not \"<unix nanoseconds> <id>\"", rec)
		}
		a.sessions[id] = time.Unix(0, n).UTC()
	}
	return a, nil
}

func restoreTries(ts []snapshotTry) []codeTry {
	if len(ts) == 0 {
		return nil
	}
	out := make([]codeTry, len(ts))
	for i, t := range ts {
		out[i] = codeTry{at: t.At, client: t.Client}
	}
	return out
}
