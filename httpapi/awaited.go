package httpapi

import "sync"

// awaitedCap bounds the sessions remembered by awaitedSessions; past it the
// set starts again (a session then waits once more, which is harmless).
const awaitedCap = 100_000

// awaitedSessions remembers the sessions whose profile read has already
// waited for their login to be projected, so that a stalled projection
// (a transaction held open in the database) costs a session one wait of
// CONSISTENCY_TIMEOUT, not one on every read.
type awaitedSessions struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

// first reports whether id has not waited yet, and marks it as waited.
func (a *awaitedSessions) first(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.ids[id]; ok {
		return false
	}
	if a.ids == nil || len(a.ids) >= awaitedCap {
		a.ids = map[string]struct{}{}
	}
	a.ids[id] = struct{}{}
	return true
}
