package account

import "time"

// EmailClaim is the tiny aggregate of an "email-<hash>" stream: it makes
// one address belong to at most one account.
type EmailClaim struct {
	accountID string
	claimedAt time.Time
	version   int
}

// EmailClaimFromHistory folds the events of an e-mail stream.
func EmailClaimFromHistory(history []Event) *EmailClaim {
	c := &EmailClaim{}
	for _, e := range history {
		c.Apply(e)
	}
	return c
}

// Apply moves the claim on by one event.
func (c *EmailClaim) Apply(e Event) {
	c.version++
	if e, ok := codec.Value(e).(EmailClaimed); ok && c.accountID == "" {
		c.accountID = e.AccountID
		c.claimedAt = e.At
	}
}

// Claim gives the address to accountID. A second claim by the same account
// is a no-op (a retried command); by another account it is ErrEmailTaken.
func (c *EmailClaim) Claim(accountID string, now time.Time) ([]Event, error) {
	switch {
	case !validAccountID(accountID):
		return nil, invalidArg("account id must be a UUID")
	case c.accountID == accountID:
		return nil, nil
	case c.accountID != "":
		return nil, ErrEmailTaken
	}
	return []Event{EmailClaimed{AccountID: accountID, At: now.UTC()}}, nil
}

// ClaimedBy returns the owning account id, or "" if the address is free.
func (c *EmailClaim) ClaimedBy() string { return c.accountID }

// ClaimedAt is when the address was claimed (zero if it is free).
func (c *EmailClaim) ClaimedAt() time.Time { return c.claimedAt }

// Version is the number of events applied (the expected version).
func (c *EmailClaim) Version() int { return c.version }
