//go:build !race

package httpapi

// raceEnabled: the race detector's shadow memory inflates RSS.
const raceEnabled = false
