package account

// CanDownload reports whether the account may download videos: only a
// verified account may ("From now on you can download videos"). The
// download itself is recorded by download.Record, in the download streams.
func (a *Account) CanDownload() error {
	if !a.registered {
		return ErrNotRegistered
	}
	if !a.verified {
		return ErrNotVerified
	}
	return nil
}
