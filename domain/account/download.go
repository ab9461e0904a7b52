package account

import "time"

// CanDownload reports whether the account may download videos: only a
// verified account may ("From now on you can download videos").
func (a *Account) CanDownload() error {
	if !a.registered {
		return ErrNotRegistered
	}
	if !a.verified {
		return ErrNotVerified
	}
	return nil
}

// Download records one download. The caller has checked that the video and
// the format exist (that is the video's business, not the account's).
func (a *Account) Download(videoID, format string, now time.Time) ([]Event, error) {
	if err := a.CanDownload(); err != nil {
		return nil, err
	}
	if videoID == "" || format == "" {
		return nil, invalidArg("video id and format are required")
	}
	return []Event{VideoDownloaded{AccountID: a.id, VideoID: videoID, Format: format, At: now.UTC()}}, nil
}
