package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// cmdCases lists cases ("cases [--email E] [--state S]"), shows one
// ("cases show ID", or "cases ID"), verifies the audit log ("cases verify")
// or lists the open manual steps ("cases manual"); "cases retry" and
// "cases cancel" are in casesops.go, "cases export" (the evidence of a
// period) in export.go.
func cmdCases(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retry" {
		return cmdCasesRetry(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "cancel" {
		return cmdCasesCancel(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "export" {
		return cmdCasesExport(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("cases", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := newAPIClient(fs)
	email := fs.String("email", "", "only this subject")
	state := fs.String("state", "", "only this state")
	limit := fs.Int("limit", 50, "at most this many")
	asJSON := fs.Bool("json", false, "print JSON")
	anchor := fs.String("anchor", "", "with verify: SEQ:HASH, a head noted earlier, which the chain must still hold")
	var rest []string
	if len(args) > 0 && (args[0] == "list" || args[0] == "show" || args[0] == "verify" || args[0] == "manual") {
		rest, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest = append(rest, fs.Args()...)
	if len(rest) > 0 && rest[0] == "list" {
		rest = rest[1:]
	}
	c, err := client()
	if err != nil {
		return err
	}
	if len(rest) > 0 && rest[0] == "verify" {
		if len(rest) != 1 {
			return fmt.Errorf("%w: cases verify takes no argument", errUsage)
		}
		return verifyAudit(ctx, c, stdout, *anchor, *asJSON)
	}
	if len(rest) > 0 && rest[0] == "manual" {
		if len(rest) != 1 {
			return fmt.Errorf("%w: cases manual takes no argument", errUsage)
		}
		return listManual(ctx, c, stdout, *limit, *asJSON)
	}
	if len(rest) > 0 {
		if rest[0] == "show" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return fmt.Errorf("%w: cases show ID", errUsage)
		}
		var cs store.Case
		if err := c.do(ctx, http.MethodGet, "/v1/cases/"+url.PathEscape(rest[0]), nil, &cs); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, cs)
		}
		printCase(stdout, &cs)
		return nil
	}
	q := url.Values{}
	if *email != "" {
		q.Set("email", *email)
	}
	if *state != "" {
		q.Set("state", *state)
	}
	q.Set("limit", fmt.Sprint(*limit))
	var out struct {
		Cases []store.Case `json:"cases"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/cases?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tEMAIL\tREASON\tSTATE\tENTRIES\tCREATED")
	for _, cs := range out.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cs.ID, cs.Email, cs.Reason, cs.State, summarize(cs.Entries), cs.CreatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func summarize(entries []store.Entry) string {
	counts := map[offboard.Outcome]int{}
	var order []offboard.Outcome
	for _, e := range entries {
		if counts[e.Outcome] == 0 {
			order = append(order, e.Outcome)
		}
		counts[e.Outcome]++
	}
	parts := make([]string, len(order))
	for i, o := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[o], o)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func printCase(w io.Writer, cs *store.Case) {
	fmt.Fprintf(w, "case       %s\nemail      %s\nreason     %s\nstate      %s\ndry run    %v\neffective  %s\ncreated    %s\n",
		cs.ID, cs.Email, cs.Reason, cs.State, cs.DryRun, cs.EffectiveAt.Format(time.RFC3339), cs.CreatedAt.Format(time.RFC3339Nano))
	if cs.ClosedAt != nil {
		fmt.Fprintf(w, "closed     %s (%s after creation)\n", cs.ClosedAt.Format(time.RFC3339Nano), cs.ClosedAt.Sub(cs.CreatedAt).Round(time.Millisecond))
	}
	if cs.ClosedReason != "" {
		fmt.Fprintf(w, "why        %s\n", cs.ClosedReason)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCONNECTOR\tOUTCOME\tATTEMPTS\tFINISHED\tDETAIL")
	for _, e := range cs.Entries {
		fin := "-"
		switch {
		case e.FinishedAt != nil:
			fin = e.FinishedAt.Format(time.RFC3339Nano)
		case e.NextAttemptAt != nil:
			// A pending entry the worker retries: when it tries again.
			fin = "next attempt " + e.NextAttemptAt.Format(time.RFC3339)
		}
		// A failure's error, else what the connector said it ended.
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.Connector, e.Outcome, e.Attempts, fin, cmp.Or(e.LastError, e.Detail))
	}
	tw.Flush()
	if len(cs.Related) > 0 {
		fmt.Fprintln(w, "\nother cases of this person:")
		for _, r := range cs.Related {
			fmt.Fprintf(w, "  %s %s %s created %s\n", r.ID, r.State, r.Reason, r.CreatedAt.Format(time.RFC3339))
		}
	}
	fmt.Fprintln(w, "\naudit:")
	for _, a := range cs.Audit {
		fmt.Fprintf(w, "  #%d %s %s %s %s %s\n", a.Seq, a.At.Format(time.RFC3339Nano), a.Actor, a.Action, a.Connector, a.Detail)
	}
}

// verifyAudit asks the server to recompute the audit log's hash chain (and
// to check an anchor, SEQ:HASH, if given) and prints its head, or fails
// (exit 1) naming the first row that does not verify.
func verifyAudit(ctx context.Context, c *apiClient, stdout io.Writer, anchor string, asJSON bool) error {
	path := "/v1/audit/verify"
	if anchor != "" {
		seq, hash, ok := strings.Cut(anchor, ":")
		if !ok {
			return fmt.Errorf("%w: --anchor: want SEQ:HASH, as cases verify printed them", errUsage)
		}
		path += "?" + url.Values{"seq": {seq}, "hash": {hash}}.Encode()
	}
	var out struct {
		Verified    bool             `json:"verified"`
		Head        *store.AuditHead `json:"head,omitempty"`
		Anchor      *store.AuditHead `json:"anchor,omitempty"`
		FirstBadSeq int64            `json:"first_bad_seq,omitempty"`
		Reason      string           `json:"reason,omitempty"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	if asJSON {
		if err := printJSON(stdout, out); err != nil {
			return err
		}
	} else if out.Verified && out.Head != nil {
		fmt.Fprintf(stdout, "audit log verified: %d rows; head %d:%s\n", out.Head.Seq, out.Head.Seq, out.Head.Hash)
		if out.Anchor != nil {
			fmt.Fprintf(stdout, "anchor %d:%s still holds\n", out.Anchor.Seq, out.Anchor.Hash)
		}
	}
	switch {
	case !out.Verified:
		return fmt.Errorf("the audit log does not verify: first bad row seq %d: %s", out.FirstBadSeq, out.Reason)
	case out.Head == nil:
		return fmt.Errorf("the server said verified but gave no head")
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
