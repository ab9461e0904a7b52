package commands

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// DownloadVideo is a logged-in account's "download this video in this
// format".
type DownloadVideo struct {
	AccountID string
	VideoID   string
	Format    string
	Meta      Meta
}

// DownloadResult is where the file is and where the download was recorded.
type DownloadResult struct {
	URL      string
	Position eventstore.Position
}

// firstPage is how many account events Download reads before looking at the
// verified flag: registration and verification come first in a stream.
const firstPage = 16

// Download checks the video on its own stream (the source of truth: it
// exists, is not withdrawn, has the format), checks that the account is
// verified, and appends VideoDownloaded to the account's stream.
//
// The append uses expected version "stream exists", not an exact version:
// the one account rule a download depends on, being verified, never
// reverts, and downloads do not depend on each other, so they need not
// serialise. For the same reason the account
// is read only until its verification is seen, not to its end, and an
// account once seen verified is not read again by this process: a download
// stays cheap however many the account has made.
// Errors: video.ErrNotFound, video.ErrWithdrawn, *video.UnknownFormatError
// (video.ErrUnknownFormat), account.ErrNotVerified, ErrUnavailable.
func (h *Content) Download(ctx context.Context, cmd DownloadVideo) (DownloadResult, error) {
	if !video.ValidID(cmd.VideoID) {
		return DownloadResult{}, video.ErrNotFound
	}
	v, err := h.loadVideo(ctx, cmd.VideoID)
	if err != nil {
		return DownloadResult{}, err
	}
	if err := v.CheckDownload(cmd.Format); err != nil {
		return DownloadResult{}, err
	}
	now := h.now()
	events := []account.Event{account.VideoDownloaded{AccountID: cmd.AccountID, VideoID: cmd.VideoID, Format: cmd.Format, At: now.UTC()}}
	if !h.verified.has(cmd.AccountID) {
		a, err := h.loadVerification(ctx, cmd.AccountID)
		if err != nil {
			return DownloadResult{}, err
		}
		if events, err = a.Download(cmd.VideoID, cmd.Format, now); err != nil {
			return DownloadResult{}, err
		}
		h.verified.add(cmd.AccountID)
	}
	data, err := stamp(events, account.Encode, cmd.Meta, now)
	if err != nil {
		return DownloadResult{}, err
	}
	res, err := h.store.Append(ctx, account.StreamID(cmd.AccountID), eventstore.StreamExists, data...)
	if err != nil {
		return DownloadResult{}, fmt.Errorf("append download to account %s: %w: %w", cmd.AccountID, ErrUnavailable, err)
	}
	return DownloadResult{URL: h.DownloadURL(cmd.VideoID, cmd.Format), Position: res.Position}, nil
}

// DownloadURL is where the file of a video's format is served from.
func (h *Content) DownloadURL(videoID, format string) string {
	return h.baseURL + url.PathEscape(videoID) + "/" + url.PathEscape(format)
}

// verifiedSet remembers accounts seen verified. Verification never reverts,
// so a remembered account can skip reading its stream; the set is emptied
// when it reaches its cap, which bounds memory without any staleness.
type verifiedSet struct {
	mu  sync.RWMutex
	ids map[string]struct{}
	cap int
}

func (s *verifiedSet) has(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.ids[id]
	return ok
}

func (s *verifiedSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil || len(s.ids) >= s.cap {
		s.ids = make(map[string]struct{})
	}
	s.ids[id] = struct{}{}
}

// loadVerification folds the account's stream until it is known to be
// verified (or to its end when it is not).
func (h *Content) loadVerification(ctx context.Context, accountID string) (*account.Account, error) {
	a := account.FromHistory(account.Policy{}, nil)
	stream := account.StreamID(accountID)
	for from, limit := uint64(0), firstPage; ; limit = readPage {
		page, err := h.store.ReadStream(ctx, stream, from, limit)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w: %w", stream, ErrUnavailable, err)
		}
		for _, re := range page {
			e, err := account.Decode(re.Type, re.Data)
			if err != nil {
				return nil, fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
			}
			a.Apply(e)
		}
		if a.Verified() || len(page) < limit {
			return a, nil
		}
		from = page[len(page)-1].Version + 1
	}
}
