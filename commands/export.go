package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// ExportTo writes the account's personal data (PersonalData, as JSON) to
// w. It holds in memory only the profile, the newsletter history and the
// logins; downloads and events are written as they are read, so an account
// with 100,000 downloads costs no more memory than a new one. Everything
// that can refuse the export (no key, no account) is checked before the
// first byte; an error after it leaves the document unfinished, which a
// JSON reader cannot mistake for a whole one.
// Errors: ErrNotFound (no such account, or erased), ErrUnavailable.
func (h *Accounts) ExportTo(ctx context.Context, accountID string, w io.Writer) error {
	c, err := h.keys.ForReading(ctx, accountID)
	if err != nil {
		return err
	}
	head := PersonalData{AccountID: accountID, NewsletterHistory: []NewsletterChange{}, Logins: []LoginRecord{}}
	a := account.FromHistory(h.policy, nil)
	err = h.walkAccount(ctx, accountID, c, func(_ eventstore.RecordedEvent, e account.Event, _ map[string]any, ip string) error {
		a.Apply(e)
		switch e := e.(type) {
		case account.AccountRegistered:
			head.Email, head.RegisteredAt = e.Email, e.RegisteredAt
			head.NewsletterHistory = append(head.NewsletterHistory, NewsletterChange{Subscribed: e.Newsletter, At: e.RegisteredAt})
		case account.NewsletterSubscribed:
			head.NewsletterHistory = append(head.NewsletterHistory, NewsletterChange{Subscribed: true, At: e.At})
		case account.NewsletterUnsubscribed:
			head.NewsletterHistory = append(head.NewsletterHistory, NewsletterChange{Subscribed: false, At: e.At})
		case account.LoggedIn:
			head.Logins = append(head.Logins, LoginRecord{At: e.At, Succeeded: true, ClientIP: ip, SessionID: e.SessionID})
		case account.LoginFailed:
			head.Logins = append(head.Logins, LoginRecord{At: e.At, ClientIP: ip})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !a.Registered() {
		return fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	head.Verified, head.Newsletter = a.Verified(), a.Subscribed()
	if a.Verified() {
		head.VerifiedAt = ptrTime(a.VerifiedAt())
	}
	// The downloads since downloads got streams of their own: one stream a
	// month, from the registration's to the current one.
	downloadStreams := download.StreamIDs(accountID, a.RegisteredAt().AddDate(0, -1, 0), h.now().AddDate(0, 1, 0))

	// The head's fields, then the two long arrays, element by element.
	// Marshalling PersonalData with empty arrays and cutting its closing
	// brace keeps the field names in one place, PersonalData's tags.
	b, err := json.Marshal(struct {
		PersonalData
		Downloads *struct{} `json:"downloads,omitempty"`
		Events    *struct{} `json:"events,omitempty"`
	}{PersonalData: head})
	if err != nil {
		return err
	}
	jw := &jsonArrays{w: w}
	jw.raw(b[:len(b)-1])
	jw.open("downloads")
	err = h.walkAccount(ctx, accountID, c, func(_ eventstore.RecordedEvent, e account.Event, _ map[string]any, ip string) error {
		if d, ok := e.(account.VideoDownloaded); ok {
			return jw.item(DownloadRecord{VideoID: d.VideoID, Format: d.Format, At: d.At, ClientIP: ip})
		}
		return nil
	})
	if err == nil {
		err = h.walkDownloads(ctx, downloadStreams, c, func(_ eventstore.RecordedEvent, d download.VideoDownloaded, _ map[string]any, ip string) error {
			return jw.item(DownloadRecord{VideoID: d.VideoID, Format: d.Format, At: d.At, ClientIP: ip})
		})
	}
	if err != nil {
		return err
	}
	jw.open("events")
	err = h.walkAccount(ctx, accountID, c, func(re eventstore.RecordedEvent, e account.Event, md map[string]any, _ string) error {
		_, data, err := account.Encode(account.Redact(e))
		if err != nil {
			return err
		}
		return jw.item(ExportedEvent{Stream: re.StreamID, Type: re.Type, Version: re.Version, Position: re.Position,
			RecordedAt: re.RecordedAt.UTC(), Metadata: md, Data: data})
	})
	if err == nil {
		err = h.walkDownloads(ctx, downloadStreams, c, func(re eventstore.RecordedEvent, _ download.VideoDownloaded, md map[string]any, _ string) error {
			return jw.item(ExportedEvent{Stream: re.StreamID, Type: re.Type, Version: re.Version, Position: re.Position,
				RecordedAt: re.RecordedAt.UTC(), Metadata: md, Data: json.RawMessage(re.Data)})
		})
	}
	if err != nil {
		return err
	}
	jw.raw([]byte("]}\n"))
	return jw.err
}

// walkAccount calls fn with each event of the account's stream, opened by
// c, its metadata with the client IP opened, and that IP.
func (h *Accounts) walkAccount(ctx context.Context, accountID string, c account.Cipher, fn func(eventstore.RecordedEvent, account.Event, map[string]any, string) error) error {
	stream := account.StreamID(accountID)
	return forEachEvent(ctx, h.store, stream, 0, func(re eventstore.RecordedEvent) error {
		e, err := account.DecodeOpened(re.Type, re.Data, c)
		if err != nil {
			return fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
		}
		md, ip, err := openMetadata(re.Metadata, c)
		if err != nil {
			return fmt.Errorf("metadata of %s version %d: %w", stream, re.Version, err)
		}
		return fn(re, e, md, ip)
	})
}

// walkDownloads calls fn with each download of streams, as walkAccount.
func (h *Accounts) walkDownloads(ctx context.Context, streams []string, c account.Cipher, fn func(eventstore.RecordedEvent, download.VideoDownloaded, map[string]any, string) error) error {
	for _, stream := range streams {
		err := forEachEvent(ctx, h.store, stream, 0, func(re eventstore.RecordedEvent) error {
			e, err := download.Decode(re.Type, re.Data)
			if err != nil {
				return fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
			}
			md, ip, err := openMetadata(re.Metadata, c)
			if err != nil {
				return fmt.Errorf("metadata of %s version %d: %w", stream, re.Version, err)
			}
			if d, ok := e.(download.VideoDownloaded); ok {
				return fn(re, d, md, ip)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// jsonArrays writes a JSON object's arrays element by element, keeping the
// first write error.
type jsonArrays struct {
	w      io.Writer
	err    error
	arrays int  // arrays opened
	empty  bool // the current array has no element yet
}

func (j *jsonArrays) raw(b []byte) {
	if j.err == nil {
		_, j.err = j.w.Write(b)
	}
}

// open ends the previous array, if any, and starts the named one.
func (j *jsonArrays) open(name string) {
	if j.arrays > 0 {
		j.raw([]byte("]"))
	}
	j.raw([]byte(`,"` + name + `":[`))
	j.arrays++
	j.empty = true
}

func (j *jsonArrays) item(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !j.empty {
		j.raw([]byte(","))
	}
	j.empty = false
	j.raw(b)
	return j.err
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
