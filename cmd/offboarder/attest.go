package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/offboarder/offboarder/store"
)

// cmdAttest says, through the admin API, that a person did a manual step:
// "attest CASE CONNECTOR --who NAME [--note TEXT]". The entry becomes
// attested, and the case completes when nothing else needs a person.
func cmdAttest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := newOperatorFlags("attest", "the person who did the step (required)", "what they did", stderr)
	pos, err := o.parse(args, 2, "attest CASE CONNECTOR --who NAME [--note TEXT]")
	if err != nil {
		return err
	}
	who, err := o.person("", "did the step")
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(o.body(who))
	var out struct {
		CaseID    string      `json:"case_id"`
		CaseState string      `json:"case_state"`
		ClosedAt  *time.Time  `json:"closed_at,omitempty"`
		Entry     store.Entry `json:"entry"`
	}
	path := "/v1/cases/" + url.PathEscape(pos[0]) + "/entries/" + url.PathEscape(pos[1]) + "/attest"
	if err := c.do(ctx, http.MethodPost, path, b, &out); err != nil {
		return err
	}
	if *o.json {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "%s on case %s: %s by %s; the case is %s\n", out.Entry.Connector, out.CaseID, out.Entry.Outcome, who, out.CaseState)
	return nil
}

// parseInterspersed parses fs from args with flags before, between or
// after the positional arguments, and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// listManual prints the open manual steps, oldest first: the ready ones
// with their instructions, the others with the connector they wait for.
func listManual(ctx context.Context, c *apiClient, stdout io.Writer, limit int, asJSON bool) error {
	var out struct {
		Entries []struct {
			CaseID       string    `json:"case_id"`
			Email        string    `json:"email"`
			Reason       string    `json:"reason"`
			CaseState    string    `json:"case_state"`
			Connector    string    `json:"connector"`
			Instructions string    `json:"instructions,omitempty"`
			WaitingFor   string    `json:"waiting_for,omitempty"`
			CreatedAt    time.Time `json:"created_at"`
			UpdatedAt    time.Time `json:"updated_at"`
		} `json:"entries"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/manual?"+url.Values{"limit": {fmt.Sprint(limit)}}.Encode(), nil, &out); err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tEMAIL\tCONNECTOR\tSINCE\tTO DO")
	for _, e := range out.Entries {
		todo := e.Instructions
		if e.WaitingFor != "" {
			todo = "waits for " + e.WaitingFor
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.CaseID, e.Email, e.Connector, e.UpdatedAt.Local().Format(time.DateTime), todo)
	}
	return tw.Flush()
}
