package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// PersonalData is everything the event store holds about one person, for
// the right of access (GDPR art. 15): the profile, the newsletter history,
// every download, every login and failed login with its client IP, and the
// account's events themselves, personal fields opened and secrets
// (password and code hashes) redacted.
type PersonalData struct {
	AccountID    string     `json:"account_id"`
	Email        string     `json:"email"`
	Verified     bool       `json:"verified"`
	Newsletter   bool       `json:"newsletter"`
	RegisteredAt time.Time  `json:"registered_at"`
	VerifiedAt   *time.Time `json:"verified_at"`
	// NewsletterHistory lists every change of the subscription, the
	// choice made at registration first.
	NewsletterHistory []NewsletterChange `json:"newsletter_history"`
	Downloads         []DownloadRecord   `json:"downloads"`
	Logins            []LoginRecord      `json:"logins"`
	Events            []ExportedEvent    `json:"events"`
}

// NewsletterChange is one subscription or unsubscription.
type NewsletterChange struct {
	Subscribed bool      `json:"subscribed"`
	At         time.Time `json:"at"`
}

// DownloadRecord is one download, and the client IP it came from.
type DownloadRecord struct {
	VideoID  string    `json:"video_id"`
	Format   string    `json:"format"`
	At       time.Time `json:"at"`
	ClientIP string    `json:"client_ip"`
}

// LoginRecord is one login attempt: successful or not, when, from where.
type LoginRecord struct {
	At        time.Time `json:"at"`
	Succeeded bool      `json:"succeeded"`
	ClientIP  string    `json:"client_ip"`
	SessionID string    `json:"session_id,omitempty"`
}

// ExportedEvent is one stored event as its subject may see it.
type ExportedEvent struct {
	Stream     string              `json:"stream"`
	Type       string              `json:"type"`
	Version    uint64              `json:"version"`
	Position   eventstore.Position `json:"position"`
	RecordedAt time.Time           `json:"recorded_at"`
	Metadata   map[string]any      `json:"metadata"`
	Data       json.RawMessage     `json:"data"`
}

// Export gathers the account's personal data from its events.
// Errors: ErrNotFound (no such account, or erased), ErrUnavailable.
func (h *Accounts) Export(ctx context.Context, accountID string) (PersonalData, error) {
	c, err := h.keys.ForReading(ctx, accountID)
	if err != nil {
		return PersonalData{}, err
	}
	out := PersonalData{AccountID: accountID, NewsletterHistory: []NewsletterChange{},
		Downloads: []DownloadRecord{}, Logins: []LoginRecord{}, Events: []ExportedEvent{}}
	a := account.FromHistory(h.policy, nil)
	stream := account.StreamID(accountID)
	err = forEachEvent(ctx, h.store, stream, 0, func(re eventstore.RecordedEvent) error {
		e, err := account.DecodeOpened(re.Type, re.Data, c)
		if err != nil {
			return fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
		}
		a.Apply(e)
		md, ip, err := openMetadata(re.Metadata, c)
		if err != nil {
			return fmt.Errorf("metadata of %s version %d: %w", stream, re.Version, err)
		}
		_, data, err := account.Encode(account.Redact(e))
		if err != nil {
			return err
		}
		out.Events = append(out.Events, ExportedEvent{Stream: re.StreamID, Type: re.Type, Version: re.Version, Position: re.Position,
			RecordedAt: re.RecordedAt.UTC(), Metadata: md, Data: data})
		switch e := e.(type) {
		case account.AccountRegistered:
			out.Email, out.RegisteredAt = e.Email, e.RegisteredAt
			out.NewsletterHistory = append(out.NewsletterHistory, NewsletterChange{Subscribed: e.Newsletter, At: e.RegisteredAt})
		case account.NewsletterSubscribed:
			out.NewsletterHistory = append(out.NewsletterHistory, NewsletterChange{Subscribed: true, At: e.At})
		case account.NewsletterUnsubscribed:
			out.NewsletterHistory = append(out.NewsletterHistory, NewsletterChange{Subscribed: false, At: e.At})
		case account.VideoDownloaded:
			out.Downloads = append(out.Downloads, DownloadRecord{VideoID: e.VideoID, Format: e.Format, At: e.At, ClientIP: ip})
		case account.LoggedIn:
			out.Logins = append(out.Logins, LoginRecord{At: e.At, Succeeded: true, ClientIP: ip, SessionID: e.SessionID})
		case account.LoginFailed:
			out.Logins = append(out.Logins, LoginRecord{At: e.At, ClientIP: ip})
		}
		return nil
	})
	if err != nil {
		return PersonalData{}, err
	}
	if !a.Registered() {
		return PersonalData{}, fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	// The downloads since downloads got streams of their own: one stream a
	// month, from the registration's to the current one.
	for _, stream := range download.StreamIDs(accountID, a.RegisteredAt().AddDate(0, -1, 0), h.now().AddDate(0, 1, 0)) {
		err := forEachEvent(ctx, h.store, stream, 0, func(re eventstore.RecordedEvent) error {
			e, err := download.Decode(re.Type, re.Data)
			if err != nil {
				return fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
			}
			md, ip, err := openMetadata(re.Metadata, c)
			if err != nil {
				return fmt.Errorf("metadata of %s version %d: %w", stream, re.Version, err)
			}
			out.Events = append(out.Events, ExportedEvent{Stream: re.StreamID, Type: re.Type, Version: re.Version, Position: re.Position,
				RecordedAt: re.RecordedAt.UTC(), Metadata: md, Data: json.RawMessage(re.Data)})
			if d, ok := e.(download.VideoDownloaded); ok {
				out.Downloads = append(out.Downloads, DownloadRecord{VideoID: d.VideoID, Format: d.Format, At: d.At, ClientIP: ip})
			}
			return nil
		})
		if err != nil {
			return PersonalData{}, err
		}
	}
	out.Verified, out.Newsletter = a.Verified(), a.Subscribed()
	if a.Verified() {
		out.VerifiedAt = ptrTime(a.VerifiedAt())
	}
	return out, nil
}

func ptrTime(t time.Time) *time.Time { return &t }

// openMetadata returns an event's metadata with its client IP opened by c,
// and that IP.
func openMetadata(raw []byte, c account.Cipher) (map[string]any, string, error) {
	md := map[string]any{}
	if len(raw) == 0 {
		return md, "", nil
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, "", err
	}
	ip, _ := md["client_ip"].(string)
	if ip == "" {
		return md, "", nil
	}
	opened, err := c.Open(ip)
	if err != nil {
		return nil, "", err
	}
	md["client_ip"] = opened
	return md, opened, nil
}
