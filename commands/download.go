package commands

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
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
// verified, and appends VideoDownloaded to the account's download stream
// of the month (download.StreamID), never to the account stream: the
// account's commands do not read its downloads, so they cost the same
// however many it has made.
//
// The append uses expected version "any", not an exact version: the one
// account rule a download depends on, being verified, never reverts (but
// see ForgetVerified), and downloads do not depend on each other, so they
// need not read their stream first. The audit chain (audit.NewChainedStore,
// as serve wires it) turns "any" into the exact version of the stream's
// tail it keeps in memory, reading at most one month of the account's
// downloads the first time. For the same reason the account is read only
// until its verification is seen, not to its end, and an account once seen
// verified is not read again by this process. The one way out of
// "verified" is erasure, and that is checked on every download all the
// same, remembered or not: the client IP is sealed under the account's
// data key, which DataKeys.ForWriting refuses (account.ErrAccountErased)
// once the account is erased, on whichever instance that happened.
// Errors: video.ErrNotFound, video.ErrWithdrawn, *video.UnknownFormatError
// (video.ErrUnknownFormat), account.ErrNotVerified, account.ErrAccountErased,
// ErrUnavailable.
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
	c, err := h.keys.ForWriting(ctx, cmd.AccountID)
	if err != nil {
		return DownloadResult{}, err
	}
	var who download.Downloader = verifiedAccount(cmd.AccountID)
	if !h.verified.has(cmd.AccountID) {
		a, err := h.loadVerification(ctx, cmd.AccountID, c)
		if err != nil {
			return DownloadResult{}, err
		}
		who = a
	}
	now := h.now()
	events, err := download.Record(who, cmd.VideoID, cmd.Format, now)
	if err != nil {
		return DownloadResult{}, err
	}
	h.verified.add(cmd.AccountID)
	meta, err := cmd.Meta.sealed(c)
	if err != nil {
		return DownloadResult{}, err
	}
	data, err := stamp(events, download.Encode, meta, now)
	if err != nil {
		return DownloadResult{}, err
	}
	stream := download.StreamID(cmd.AccountID, now)
	res, err := h.store.Append(ctx, stream, eventstore.Any, data...)
	if err != nil {
		return DownloadResult{}, fmt.Errorf("append to %s: %w: %w", stream, ErrUnavailable, err)
	}
	return DownloadResult{URL: h.DownloadURL(cmd.VideoID, cmd.Format), Position: res.Position}, nil
}

// verifiedAccount is an account this process has seen verified.
type verifiedAccount string

func (a verifiedAccount) ID() string       { return string(a) }
func (verifiedAccount) CanDownload() error { return nil }

// ForgetVerified drops accountID from the accounts this process has seen
// verified, so that its next download reads the account stream again.
// Download assumes verification never reverts; erasure, the one way back,
// is caught on every download by the data key check, in every process.
func (h *Content) ForgetVerified(accountID string) { h.verified.remove(accountID) }

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

func (s *verifiedSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
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
// verified (or to its end when it is not), reading it in pages of
// firstPage events.
func (h *Content) loadVerification(ctx context.Context, accountID string, c account.Cipher) (*account.Account, error) {
	a := account.FromHistory(account.Policy{}, nil)
	stream := account.StreamID(accountID)
	for re, err := range eventstore.StreamEvents(ctx, h.store, stream, 0, firstPage) {
		if err != nil {
			return nil, fmt.Errorf("read %s: %w: %w", stream, ErrUnavailable, err)
		}
		e, err := account.DecodeOpened(re.Type, re.Data, c)
		if err != nil {
			return nil, fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
		}
		a.Apply(e)
		if a.Verified() {
			break
		}
	}
	return a, nil
}
