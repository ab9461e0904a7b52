package commands

import (
	"crypto/sha256"
	"sync"
	"time"
)

// noticeInterval is the least time between two "you already have an
// account" notices to one address.
const noticeInterval = time.Hour

// maxNoticeKeys bounds the addresses remembered by noticeLimit.
const maxNoticeKeys = 10_000

// noticeLimit lets at most one notice a noticeInterval reach an address, so
// that registering somebody's address over and over cannot flood their
// mailbox. It lives in one process; the per-IP limits of the HTTP layer
// bound the rest. Full of recent addresses, it sends nothing more until
// they age out: a notice is a courtesy, and the registration answer is the
// same either way.
type noticeLimit struct {
	mu   sync.Mutex
	last map[[sha256.Size]byte]time.Time
}

func newNoticeLimit() *noticeLimit {
	return &noticeLimit{last: map[[sha256.Size]byte]time.Time{}}
}

// allow reports whether a notice to address may leave now, and if so
// remembers it.
func (n *noticeLimit) allow(address string, now time.Time) bool {
	key := sha256.Sum256([]byte(address))
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.last[key]; ok && now.Sub(t) < noticeInterval {
		return false
	}
	if len(n.last) >= maxNoticeKeys {
		for k, t := range n.last {
			if now.Sub(t) >= noticeInterval {
				delete(n.last, k)
			}
		}
		if len(n.last) >= maxNoticeKeys {
			return false
		}
	}
	n.last[key] = now
	return true
}
