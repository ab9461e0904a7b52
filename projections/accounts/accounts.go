package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/pgerr"
	"github.com/multimedia-portal/multimedia/projections"
)

// Name is the projection's constant name.
const Name = "accounts"

// Table is the read model's table, written unqualified so rebuilds can swap it.
const Table = "rm_accounts"

// The statuses an account shows.
const (
	StatusPendingVerification = "pending_verification"
	StatusVerified            = "verified"
)

// Projection builds the accounts read model.
type Projection struct{}

var _ projections.Projection = Projection{}

// New returns the accounts projection.
func New() Projection { return Projection{} }

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Tables implements projections.Projection.
func (Projection) Tables() []string { return []string{Table} }

// EventTypes implements projections.Projection.
func (Projection) EventTypes() []string {
	return []string{account.AccountRegisteredType, account.AccountVerifiedType, account.LoggedInType,
		account.NewsletterSubscribedType, account.NewsletterUnsubscribedType, account.AccountErasedType}
}

// change is the net effect of a batch on one account.
type change struct {
	id           uuid.UUID
	registered   bool // the row is created by this batch
	email        string
	registeredAt time.Time
	status       *string
	newsletter   *bool
	verifiedAt   *time.Time
	lastLoginAt  *time.Time
	erased       bool // the row goes (AccountErased)
}

// Apply implements projections.Projection. It folds the batch into one
// change per account, then writes them with two set-based statements, so a
// batch of thousands of events costs a few round trips.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	changes := map[uuid.UUID]*change{}
	get := func(idText string) (*change, error) {
		id, err := uuid.Parse(idText)
		if err != nil {
			return nil, fmt.Errorf("account id %q: %w", idText, err)
		}
		c := changes[id]
		if c == nil {
			c = &change{id: id}
			changes[id] = c
		}
		return c, nil
	}
	for _, e := range events {
		ev, err := account.Decode(e.Type, e.Data)
		if err != nil {
			return fmt.Errorf("event %s at %s: %w", e.ID, e.Position, err)
		}
		var c *change
		switch v := ev.(type) {
		case account.AccountRegistered:
			if c, err = get(v.AccountID); err == nil {
				c.registered, c.email, c.registeredAt = true, v.Email, v.RegisteredAt
				c.status, c.newsletter = ptr(StatusPendingVerification), ptr(v.Newsletter)
			}
		case account.AccountVerified:
			if c, err = get(v.AccountID); err == nil {
				c.status, c.verifiedAt = ptr(StatusVerified), ptr(v.At)
			}
		case account.LoggedIn:
			if c, err = get(v.AccountID); err == nil {
				c.lastLoginAt = ptr(v.At)
			}
		case account.NewsletterSubscribed:
			if c, err = get(v.AccountID); err == nil {
				c.newsletter = ptr(true)
			}
		case account.NewsletterUnsubscribed:
			if c, err = get(v.AccountID); err == nil {
				c.newsletter = ptr(false)
			}
		case account.AccountErased:
			if c, err = get(v.AccountID); err == nil {
				c.erased = true
			}
		}
		if err != nil {
			return fmt.Errorf("event %s at %s: %w", e.ID, e.Position, err)
		}
	}
	return write(ctx, tx, changes)
}

func ptr[T any](v T) *T { return &v }

func write(ctx context.Context, tx pgx.Tx, changes map[uuid.UUID]*change) error {
	all := make([]*change, 0, len(changes))
	for _, c := range changes {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *change) int { return slices.Compare(a.id[:], b.id[:]) })
	var (
		insID, updID        []uuid.UUID
		insEmail, insStatus []string
		insNews             []bool
		insReg              []time.Time
		insVer, insLogin    []*time.Time
		delID               []uuid.UUID
		updStatus           []*string
		updNews             []*bool
		updVer, updLogin    []*time.Time
	)
	for _, c := range all {
		if c.erased {
			delID = append(delID, c.id)
			continue
		}
		if c.registered {
			insID, insEmail, insStatus = append(insID, c.id), append(insEmail, c.email), append(insStatus, *c.status)
			insNews, insReg = append(insNews, *c.newsletter), append(insReg, c.registeredAt)
			insVer, insLogin = append(insVer, c.verifiedAt), append(insLogin, c.lastLoginAt)
			continue
		}
		updID, updStatus, updNews = append(updID, c.id), append(updStatus, c.status), append(updNews, c.newsletter)
		updVer, updLogin = append(updVer, c.verifiedAt), append(updLogin, c.lastLoginAt)
	}
	if len(insID) > 0 {
		_, err := tx.Exec(ctx, `INSERT INTO `+Table+` (id, email, status, newsletter, registered_at, verified_at, last_login_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
ON CONFLICT (id) DO NOTHING`, insID, insEmail, insStatus, insNews, insReg, insVer, insLogin)
		if err != nil {
			return fmt.Errorf("insert %d accounts: %w", len(insID), err)
		}
	}
	if len(delID) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM `+Table+` WHERE id = ANY($1)`, delID); err != nil {
			return fmt.Errorf("delete %d erased accounts: %w", len(delID), err)
		}
	}
	if len(updID) > 0 {
		_, err := tx.Exec(ctx, `UPDATE `+Table+` a SET
  status = coalesce(d.status, a.status), newsletter = coalesce(d.newsletter, a.newsletter),
  verified_at = coalesce(d.verified_at, a.verified_at), last_login_at = coalesce(d.last_login_at, a.last_login_at)
FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::timestamptz[], $5::timestamptz[]) AS d(id, status, newsletter, verified_at, last_login_at)
WHERE a.id = d.id`, updID, updStatus, updNews, updVer, updLogin)
		if err != nil {
			return fmt.Errorf("update %d accounts: %w", len(updID), err)
		}
	}
	return nil
}

// Account is one row of the read model.
type Account struct {
	ID string `json:"account_id"`
	// Email is as the event holds it: sealed under the account's data key
	// (account.Cipher opens it) for accounts registered since sealing.
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	Newsletter   bool       `json:"newsletter"`
	RegisteredAt time.Time  `json:"registered_at"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

// Querier is what Reader reads through: a pool, a connection or a tx.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Reader answers queries on the read model.
type Reader struct{ db Querier }

// NewReader returns a Reader on db (usually the pool).
func NewReader(db Querier) *Reader { return &Reader{db: db} }

const columns = "id::text, email, status, newsletter, registered_at, verified_at, last_login_at"

// Get returns one account; projections.ErrNotFound if it is not (yet) in
// the read model, including for an id that is not a UUID.
func (r *Reader) Get(ctx context.Context, accountID string) (Account, error) {
	id, err := uuid.Parse(accountID)
	if err != nil {
		return Account{}, errProfileNotBuilt
	}
	var a Account
	err = r.db.QueryRow(ctx, "SELECT "+columns+" FROM "+Table+" WHERE id = $1", id).
		Scan(&a.ID, &a.Email, &a.Status, &a.Newsletter, &a.RegisteredAt, &a.VerifiedAt, &a.LastLoginAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, errProfileNotBuilt
	}
	if err != nil {
		return Account{}, fmt.Errorf("accounts: get %s: %w", accountID, pgerr.Mark(err))
	}
	return a, nil
}

// All returns every row ordered by id; tests compare live and rebuilt
// models with it.
func (r *Reader) All(ctx context.Context) ([]Account, error) {
	rows, err := r.db.Query(ctx, "SELECT "+columns+" FROM "+Table+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("accounts: all: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Account, error) {
		var a Account
		err := row.Scan(&a.ID, &a.Email, &a.Status, &a.Newsletter, &a.RegisteredAt, &a.VerifiedAt, &a.LastLoginAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("accounts: all: %w", err)
	}
	return out, nil
}

// errProfileNotBuilt is Get's not found: the account's row is written by
// the projection after the account's first events, so a reader that has
// just registered may be ahead of it.
var errProfileNotBuilt = apperr.Wrap(apperr.NotFound, projections.ErrNotFound,
	"the profile is not built yet; retry, or pass consistent_with=<position of your last write>")
