package sources

import (
	"net/http"
	"strings"
	"time"
)

// Helpers of the HR senders (bamboohr, hibob).

// OneHeader returns the one value of header k; none, several, an empty or an
// overlong value is unauthorized.
func OneHeader(h http.Header, k string) (string, error) {
	vs := h.Values(k)
	switch {
	case len(vs) == 0:
		return "", Unauthorized("missing %s header", k)
	case len(vs) > 1:
		return "", Unauthorized("more than one %s header", k)
	case vs[0] == "":
		return "", Unauthorized("empty %s header", k)
	case len(vs[0]) > 1024:
		return "", Unauthorized("%s header too long", k)
	}
	return vs[0], nil
}

// TerminationAt reads a termination date (YYYY-MM-DD; "" and 0000-00-00
// are no date: ok false) and says when access ends. An HR system's
// termination date is the last day of employment and comes without a time
// zone, so:
//
//   - a date after today (UTC) ends at the end of that date in UTC (the next
//     day's 00:00Z): the person keeps access through their whole last day
//     wherever the day has not yet ended in UTC, and no one loses it a day
//     early;
//   - a date of today or earlier is now (zero time): a same-day termination
//     is usually an immediate one, and waiting until midnight would leave
//     sessions open for hours.
func TerminationAt(date string, now time.Time) (time.Time, bool) {
	date = strings.TrimSpace(date)
	if len(date) != len("2006-01-02") || date == "0000-00-00" {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, false
	}
	y, m, day := now.UTC().Date()
	if !d.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return time.Time{}, true
	}
	return d.AddDate(0, 0, 1), true
}
