package account

import "time"

// Subscribe subscribes the account to the newsletter. It is idempotent: no
// event when already subscribed.
func (a *Account) Subscribe(now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if a.subscribed {
		return nil, nil
	}
	return []Event{NewsletterSubscribed{AccountID: a.id, At: now.UTC()}}, nil
}

// Unsubscribe ends the newsletter subscription. It is idempotent: no event
// when not subscribed.
func (a *Account) Unsubscribe(now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if !a.subscribed {
		return nil, nil
	}
	return []Event{NewsletterUnsubscribed{AccountID: a.id, At: now.UTC()}}, nil
}

// SetNewsletter subscribes or unsubscribes, for PUT /api/me/newsletter.
func (a *Account) SetNewsletter(subscribed bool, now time.Time) ([]Event, error) {
	if subscribed {
		return a.Subscribe(now)
	}
	return a.Unsubscribe(now)
}
