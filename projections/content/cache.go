package content

import (
	"sync"
	"time"
)

// maxCachedVideos bounds the cache; past it, entries are dropped wholesale
// (the catalogue is far smaller, so this only guards memory).
const maxCachedVideos = 10_000

// videoCache keeps recently read videos for a short ttl. Only videos that
// exist are cached, so unknown ids cannot grow it.
type videoCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	entries map[string]cachedVideo
}

type cachedVideo struct {
	v       Video
	expires time.Time
}

func newVideoCache(ttl time.Duration) *videoCache {
	return &videoCache{ttl: ttl, now: time.Now, entries: map[string]cachedVideo{}}
}

func (c *videoCache) get(id string) (Video, bool) {
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		return Video{}, false
	}
	return e.v, true
}

func (c *videoCache) put(id string, v Video) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedVideos {
		clear(c.entries)
	}
	c.entries[id] = cachedVideo{v: v, expires: c.now().Add(c.ttl)}
}
