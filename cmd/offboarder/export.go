package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/store"
)

// exportPage is how many cases one request of an export asks for.
const exportPage = 100

// csvHeader are the columns of `cases export --format csv`: one row per
// entry (a case without entries has one row with the connector empty).
var csvHeader = []string{"case_id", "email", "reason", "state", "created_at", "connector", "outcome",
	"attempts", "first_attempt_at", "last_attempt_at", "detail"}

// cmdCasesExport writes the evidence of every case created in a period
// ("cases export --since DATE [--until DATE] --format csv|json"), read page
// by page from GET /v1/evidence. A DATE is YYYY-MM-DD (UTC; --until's day
// is included) or an RFC 3339 time (--until excluded).
func cmdCasesExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cases export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := newAPIClient(fs)
	sinceArg := fs.String("since", "", "first day (YYYY-MM-DD, UTC) or time (RFC 3339) of the period (required)")
	untilArg := fs.String("until", "", "last day (YYYY-MM-DD, included) or time (RFC 3339, excluded); default now")
	format := fs.String("format", "csv", "csv (one row per entry) or json (the evidence documents)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: cases export takes no argument (got %q)", errUsage, fs.Arg(0))
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("%w: --format: want csv or json", errUsage)
	}
	if *sinceArg == "" {
		return fmt.Errorf("%w: --since is required (YYYY-MM-DD or an RFC 3339 time)", errUsage)
	}
	since, err := parseDate(*sinceArg, false)
	if err != nil {
		return fmt.Errorf("%w: --since: %w", errUsage, err)
	}
	until := time.Now().UTC()
	if *untilArg != "" {
		if until, err = parseDate(*untilArg, true); err != nil {
			return fmt.Errorf("%w: --until: %w", errUsage, err)
		}
	}
	if !until.After(since) {
		return fmt.Errorf("%w: --until (%s) must be after --since (%s)", errUsage, until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	c, err := client()
	if err != nil {
		return err
	}
	var docs []store.Evidence
	after := ""
	for {
		q := url.Values{"since": {since.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)}, "limit": {strconv.Itoa(exportPage)}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Cases []store.Evidence `json:"cases"`
			Next  string           `json:"next"`
		}
		if err := c.do(ctx, http.MethodGet, "/v1/evidence?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		docs = append(docs, page.Cases...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if *format == "json" {
		return printJSON(stdout, map[string]any{"generated_at": time.Now().UTC(), "since": since, "until": until, "cases": docs})
	}
	return writeCSV(stdout, docs)
}

// parseDate reads YYYY-MM-DD (midnight UTC; with end, the midnight after,
// so that the day is included) or an RFC 3339 time.
func parseDate(s string, end bool) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: want YYYY-MM-DD or an RFC 3339 time such as 2026-01-31T18:00:00Z", s)
	}
	return t.UTC(), nil
}

func writeCSV(w io.Writer, docs []store.Evidence) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, ev := range docs {
		c := ev.Case
		first, last := attemptTimes(ev.Attempts)
		base := []string{c.ID, c.Email, string(c.Reason), string(c.State), stamp(&c.CreatedAt)}
		if len(c.Entries) == 0 {
			if err := cw.Write(append(base, "", "", "", "", "", "")); err != nil {
				return err
			}
		}
		for _, e := range c.Entries {
			f, l := first[e.Connector], last[e.Connector]
			if f == nil {
				f, l = e.StartedAt, e.FinishedAt // before attempts were kept
			}
			detail := e.Detail
			if e.LastError != "" && (detail == "" || e.Outcome == "failed") {
				detail = e.LastError
			}
			row := append(append([]string(nil), base...), e.Connector, string(e.Outcome), strconv.Itoa(e.Attempts), stamp(f), stamp(l), oneLine(detail))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// attemptTimes gives each connector's first and last attempt start.
func attemptTimes(as []store.Attempt) (first, last map[string]*time.Time) {
	first, last = map[string]*time.Time{}, map[string]*time.Time{}
	for _, a := range as {
		at := a.StartedAt
		if f := first[a.Connector]; f == nil || at.Before(*f) {
			first[a.Connector] = &at
		}
		if l := last[a.Connector]; l == nil || at.After(*l) {
			last[a.Connector] = &at
		}
	}
	return first, last
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// oneLine keeps a detail on one line of the sheet, and out of a
// spreadsheet's formula syntax.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		s = "'" + s
	}
	return s
}
