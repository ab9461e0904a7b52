package commands

import (
	"errors"
	"fmt"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/mail"
)

// AccountsConfig wires the account command handlers.
type AccountsConfig struct {
	Store     eventstore.Store
	Passwords PasswordHasher
	Codes     *account.CodeHasher
	// Outbox queues the mails durably (mail/outbox): a code's mail is
	// queued before its event is appended and confirmed after, so a stored
	// code always has its mail and no mail leaves for a change that was
	// not stored; delivery happens off the request path.
	Outbox   mail.Queue
	Sessions SessionStore
	// Phantoms keeps the stand-in accounts of unknown addresses.
	Phantoms PhantomStore
	// Snapshots, when set, keeps snapshots of accounts, so that a command
	// folds only the events after the latest one: an account's commands
	// then cost the same however many logins it has made. Nil folds every
	// account stream from its start.
	Snapshots SnapshotStore
	// SnapshotEvery is how many events past its snapshot an account is
	// snapshotted again (default DefaultSnapshotEvery).
	SnapshotEvery int
	// Keys keeps each account's data key: the personal fields of its
	// events are sealed under it, and erasure destroys it.
	Keys DataKeys
	// MailEraser and PhantomEraser delete an erased account's queued mail
	// and phantom (usually the Outbox and the Phantoms store).
	MailEraser    MailEraser
	PhantomEraser PhantomEraser
	// Policy holds the domain's limits; zero means account.DefaultPolicy().
	Policy account.Policy
	// SessionTTL is how long a login lasts (default 30 days).
	SessionTTL time.Duration
	// MaxRetries bounds the reloads after a concurrent change (default 10: a
	// dozen logins at once on one account, under a busy CI machine, once
	// used up 5).
	MaxRetries int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate reports every missing dependency and bad setting at once.
func (c AccountsConfig) Validate() error {
	var problems []error
	if c.Store == nil {
		problems = append(problems, errors.New("accounts: Store is nil"))
	}
	if c.Passwords == nil {
		problems = append(problems, errors.New("accounts: Passwords is nil"))
	}
	if c.Codes == nil {
		problems = append(problems, errors.New("accounts: Codes is nil"))
	}
	if c.Outbox == nil {
		problems = append(problems, errors.New("accounts: Outbox is nil"))
	}
	if c.Sessions == nil {
		problems = append(problems, errors.New("accounts: Sessions is nil"))
	}
	if c.Phantoms == nil {
		problems = append(problems, errors.New("accounts: Phantoms is nil"))
	}
	if c.Keys == nil {
		problems = append(problems, errors.New("accounts: Keys is nil"))
	}
	if c.MailEraser == nil {
		problems = append(problems, errors.New("accounts: MailEraser is nil"))
	}
	if c.PhantomEraser == nil {
		problems = append(problems, errors.New("accounts: PhantomEraser is nil"))
	}
	if c.Policy != (account.Policy{}) {
		if err := c.Policy.Validate(); err != nil {
			problems = append(problems, fmt.Errorf("accounts: %w", err))
		}
	}
	if c.SessionTTL > account.MaxSessionAge {
		problems = append(problems, fmt.Errorf("accounts: SessionTTL %s is longer than account.MaxSessionAge (%s), after which an account forgets its sessions", c.SessionTTL, account.MaxSessionAge))
	}
	if c.SessionTTL < 0 || c.MaxRetries < 0 || c.SnapshotEvery < 0 {
		problems = append(problems, errors.New("accounts: SessionTTL, MaxRetries and SnapshotEvery must not be negative"))
	}
	return errors.Join(problems...)
}

// DefaultSnapshotEvery is how many events an account's snapshot may lag
// before a command writes a new one: a load folds at most about this many
// events, and one command in this many writes a snapshot.
const DefaultSnapshotEvery = 32

// Accounts holds the handlers of every account command (one file each).
type Accounts struct {
	store      eventstore.Store
	passwords  PasswordHasher
	codes      *account.CodeHasher
	outbox     mail.Queue
	sessions   SessionStore
	policy     account.Policy
	sessionTTL time.Duration
	maxRetries int
	now        func() time.Time
	phantoms   *phantomAccounts
	// snapshots and snapshotEvery: see AccountsConfig.
	snapshots     SnapshotStore
	snapshotEvery int
	keys          DataKeys
	// mailEraser and phantomEraser serve Erase.
	mailEraser    MailEraser
	phantomEraser PhantomEraser
	notices       *noticeLimit
	// faults, in tests only, stop a command between its mail and event
	// steps, as a crash would.
	faults mailFaults
}

// NewAccounts validates cfg and returns the handlers.
func NewAccounts(cfg AccountsConfig) (*Accounts, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy == (account.Policy{}) {
		cfg.Policy = account.DefaultPolicy()
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = DefaultSnapshotEvery
	}
	return &Accounts{
		store: cfg.Store, passwords: cfg.Passwords, codes: cfg.Codes, outbox: cfg.Outbox,
		sessions: cfg.Sessions, keys: cfg.Keys, mailEraser: cfg.MailEraser, phantomEraser: cfg.PhantomEraser, policy: cfg.Policy, sessionTTL: cfg.SessionTTL,
		maxRetries: cfg.MaxRetries, now: cfg.Now,
		phantoms: newPhantomAccounts(cfg.Phantoms, cfg.Policy, cfg.Codes), notices: newNoticeLimit(),
		snapshots: cfg.Snapshots, snapshotEvery: cfg.SnapshotEvery,
	}, nil
}

// Result is what a command that appended events reports.
type Result struct {
	AccountID string
	// Position is the global position of the last event appended; zero when
	// the command appended nothing. Queries can wait for it (consistent_with).
	Position eventstore.Position
}
