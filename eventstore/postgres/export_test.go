package postgres

// QueuedAppends is how many appends wait for a group commit (for tests).
func QueuedAppends(s *Store) int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return len(s.commits.queue)
}

// ListenerWakes is how many notifications from other Stores s's listener
// acted on (for tests).
func ListenerWakes(s *Store) int64 { return s.listenerWakes.Load() }

// InflightAppends is how many append statements hold a slot (for tests).
func InflightAppends(s *Store) int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return s.commits.inflight
}
