package postgres

// QueuedAppends is how many appends wait for a group commit (for tests).
func QueuedAppends(s *Store) int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return len(s.commits.queue)
}
