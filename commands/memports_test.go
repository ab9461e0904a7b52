package commands_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/multimedia-portal/multimedia/commands"
)

// memSessions is an in-memory commands.SessionStore for the tests whose
// subject is the commands' decisions, not sessions: it keeps the rules the
// port documents (a revocation also refuses a session or device written
// after EndAll with an earlier creation time; UseDevice counts the try as
// a failure up front) and nothing of the Postgres adapter's bounds and
// clean-ups. Sessions and devices themselves are tested on Postgres, in
// adapters/postgres/sessions and in login_test.go.
type memSessions struct {
	mu       sync.Mutex
	sessions map[string]commands.Session
	devices  map[string]*memDevice
	// revoked holds each account's latest EndAll: what was created at or
	// before it is ended.
	revoked map[string]time.Time
}

type memDevice struct {
	commands.Device
	failures int
}

var _ commands.SessionStore = (*memSessions)(nil)

func newMemSessions() *memSessions {
	return &memSessions{sessions: map[string]commands.Session{}, devices: map[string]*memDevice{}, revoked: map[string]time.Time{}}
}

func (m *memSessions) ended(accountID string, created time.Time) bool {
	before, ok := m.revoked[accountID]
	return ok && !created.After(before)
}

func (m *memSessions) Create(ctx context.Context, s commands.Session) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: create: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s.TokenHash = slices.Clone(s.TokenHash)
	m.sessions[string(s.TokenHash)] = s
	return nil
}

func (m *memSessions) Find(ctx context.Context, tokenHash []byte, now time.Time) (commands.Session, error) {
	if err := ctx.Err(); err != nil {
		return commands.Session{}, fmt.Errorf("sessions: find: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[string(tokenHash)]
	if !ok || !s.ExpiresAt.After(now) || m.ended(s.AccountID, s.CreatedAt) {
		return commands.Session{}, commands.ErrUnauthenticated
	}
	return s, nil
}

func (m *memSessions) Delete(ctx context.Context, tokenHash []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: delete: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, string(tokenHash))
	return nil
}

func (m *memSessions) EndAll(ctx context.Context, accountID string, before time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: end the account's sessions: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.revoked[accountID]; !ok || before.After(cur) {
		m.revoked[accountID] = before
	}
	for k, s := range m.sessions {
		if m.ended(s.AccountID, s.CreatedAt) {
			delete(m.sessions, k)
		}
	}
	for k, d := range m.devices {
		if m.ended(d.AccountID, d.CreatedAt) {
			delete(m.devices, k)
		}
	}
	return nil
}

func (m *memSessions) AddDevice(ctx context.Context, d commands.Device) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: add device: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d.TokenHash = slices.Clone(d.TokenHash)
	m.devices[string(d.TokenHash)] = &memDevice{Device: d}
	return nil
}

func (m *memSessions) UseDevice(ctx context.Context, accountID string, tokenHash []byte, now time.Time, maxFailures int) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sessions: use device: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[string(tokenHash)]
	if !ok || d.AccountID != accountID || !d.ExpiresAt.After(now) || d.failures >= maxFailures || m.ended(d.AccountID, d.CreatedAt) {
		return false, nil
	}
	d.failures++
	return true, nil
}

func (m *memSessions) DeviceLoggedIn(ctx context.Context, tokenHash []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: clear a device's failures: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.devices[string(tokenHash)]; ok {
		d.failures = 0
	}
	return nil
}

// memPhantoms is an in-memory commands.PhantomStore for the same tests:
// one lock per phantom held for the whole decision, and the history
// trimmed to PhantomHead and PhantomTail as the port documents. It has no
// bounds per client or in total; the phantom tests run on Postgres
// (phantoms_test.go, adapters/postgres/phantoms).
type memPhantoms struct {
	mu       sync.Mutex
	phantoms map[string]*memPhantom
}

type memPhantom struct {
	mu      sync.Mutex
	history []commands.PhantomEvent
}

var _ commands.PhantomStore = (*memPhantoms)(nil)

func newMemPhantoms() *memPhantoms { return &memPhantoms{phantoms: map[string]*memPhantom{}} }

func (m *memPhantoms) UpdatePhantom(ctx context.Context, key, _ []byte, decide func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("phantoms: update: %w: %w", commands.ErrUnavailable, err)
	}
	m.mu.Lock()
	p, ok := m.phantoms[string(key)]
	if !ok {
		p = &memPhantom{}
		m.phantoms[string(key)] = p
	}
	m.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	events, err := decide(slices.Clone(p.history))
	if len(events) > 0 {
		all := append(p.history, events...)
		if len(all) > commands.PhantomHead+commands.PhantomTail {
			all = append(all[:commands.PhantomHead:commands.PhantomHead], all[len(all)-commands.PhantomTail:]...)
		}
		p.history = all
	}
	return err
}
