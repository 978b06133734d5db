package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/offboarder/offboarder/store"
)

// cmdApprove releases cases the blast-radius guard held, through the admin
// API: "approve --all --who NAME" or "approve CASE… --who NAME [--note
// TEXT]". It prints the released cases and any id not found or not held.
// With neither --all nor ids it lists the held cases, oldest first.
func cmdApprove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := newOperatorFlags("approve", "the person who approves (required)", "why", stderr)
	all := o.fs.Bool("all", false, "release every held case")
	ids, err := o.parse(args, -1, "")
	if err != nil {
		return err
	}
	if !*all && len(ids) == 0 {
		return listHeld(ctx, o.client, stdout, *o.json)
	}
	if *all && len(ids) > 0 {
		return fmt.Errorf("%w: approve --all or approve CASE…, not both", errUsage)
	}
	who, err := o.person("", "approves")
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	req := o.body(who)
	if *all {
		req["all"] = true
	} else {
		req["case_ids"] = ids
	}
	b, _ := json.Marshal(req)
	var out store.ApprovalResult
	if err := c.do(ctx, http.MethodPost, "/v1/approvals", b, &out); err != nil {
		return err
	}
	if *o.json {
		return printJSON(stdout, out)
	}
	for _, r := range out.Released {
		fmt.Fprintf(stdout, "released %s: %s\n", r.ID, r.State)
	}
	for _, n := range out.NotHeld {
		fmt.Fprintf(stdout, "not held %s: %s\n", n.ID, n.State)
	}
	for _, id := range out.NotFound {
		fmt.Fprintf(stdout, "not found %s\n", id)
	}
	if len(out.Released) == 0 && len(out.NotHeld)+len(out.NotFound) == 0 {
		fmt.Fprintln(stdout, "no case was held")
	}
	return nil
}

// listHeld prints the held cases, oldest first.
func listHeld(ctx context.Context, client func() (*apiClient, error), stdout io.Writer, asJSON bool) error {
	c, err := client()
	if err != nil {
		return err
	}
	var out struct {
		Cases []store.Case `json:"cases"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/approvals?limit=1000", nil, &out); err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tEMAIL\tREASON\tHELD SINCE")
	for _, cs := range out.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cs.ID, cs.Email, cs.Reason, cs.CreatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}
