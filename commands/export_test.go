package commands

// SetMailFaults installs test hooks that end a command right after its
// mail is queued (afterQueue) or right after its events are appended
// (afterAppend), as a crash there would: nothing after the hook runs.
func SetMailFaults(h *Accounts, afterQueue, afterAppend func() error) {
	h.faults = mailFaults{afterQueue: afterQueue, afterAppend: afterAppend}
}
