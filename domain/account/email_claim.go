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
	switch e := codec.Value(e).(type) {
	case EmailClaimed:
		if c.accountID == "" {
			c.accountID = e.AccountID
			c.claimedAt = e.At
		}
	case EmailReleased:
		if e.AccountID == c.accountID {
			c.accountID, c.claimedAt = "", time.Time{}
		}
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

// Release frees the address of its erased owner accountID; a claim held by
// another account (or by none) is left alone (no events).
func (c *EmailClaim) Release(accountID string, now time.Time) []Event {
	if accountID == "" || c.accountID != accountID {
		return nil
	}
	return []Event{EmailReleased{AccountID: accountID, At: now.UTC()}}
}

// ClaimedBy returns the owning account id, or "" if the address is free.
func (c *EmailClaim) ClaimedBy() string { return c.accountID }

// ClaimedAt is when the address was claimed (zero if it is free).
func (c *EmailClaim) ClaimedAt() time.Time { return c.claimedAt }

// Version is the number of events applied (the expected version).
func (c *EmailClaim) Version() int { return c.version }
