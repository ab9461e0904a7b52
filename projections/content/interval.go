package content

import (
	"fmt"
	"time"
)

// Interval is the width of a bucket of the download statistics.
type Interval string

// The intervals GET /api/stats/downloads accepts. Buckets are in UTC: a day
// starts at midnight, a week on Monday (ISO 8601), a month on its first day.
const (
	Day   Interval = "day"
	Week  Interval = "week"
	Month Interval = "month"
)

// Intervals lists every valid interval, for error messages.
var Intervals = []Interval{Day, Week, Month}

// ParseInterval reads "day", "week" or "month".
func ParseInterval(s string) (Interval, error) {
	switch Interval(s) {
	case Day, Week, Month:
		return Interval(s), nil
	}
	return "", fmt.Errorf("interval %q: want day, week or month", s)
}

func (i Interval) grain() string {
	switch i {
	case Week:
		return "w"
	case Month:
		return "m"
	}
	return "d"
}

// Floor returns the start of the bucket that holds t (in UTC).
func (i Interval) Floor(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch i {
	case Week:
		back := (int(d.Weekday()) + 6) % 7 // days since Monday
		return d.AddDate(0, 0, -back)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// Next returns the start of the bucket after the one starting at start.
func (i Interval) Next(start time.Time) time.Time {
	switch i {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// Buckets returns how many buckets of i cover the days from..to (both
// floored), without building them.
func (i Interval) Buckets(from, to time.Time) int {
	from, to = i.Floor(from), i.Floor(to)
	if to.Before(from) {
		return 0
	}
	switch i {
	case Week:
		return int(to.Sub(from).Hours()/24)/7 + 1
	case Month:
		return (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month()) + 1
	}
	return int(to.Sub(from).Hours()/24) + 1
}
