package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// retryAnswer is what POST …/retry answers.
type retryAnswer struct {
	CaseID    string      `json:"case_id"`
	CaseState string      `json:"case_state"`
	Queued    bool        `json:"queued"`
	Entry     store.Entry `json:"entry"`
}

// cmdCasesRetry retries failed entries through the admin API: "cases retry
// ID [--connector C] [--who NAME] [--note TEXT]". Without --connector it
// retries every failed entry of the case; without --who it names the
// operating-system user.
func cmdCasesRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := newOperatorFlags("cases retry", "the person who asks (default: the operating-system user)", "why, for the audit log", stderr)
	connector := o.fs.String("connector", "", "only this connector's entry (default: every failed entry)")
	pos, err := o.parse(args, 1, "cases retry ID [--connector C] [--who NAME] [--note TEXT]")
	if err != nil {
		return err
	}
	name, err := o.person(osUser(), "asks for the retry")
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	id := pos[0]
	conns := []string{*connector}
	if *connector == "" {
		var cs store.Case
		if err := c.do(ctx, http.MethodGet, "/v1/cases/"+url.PathEscape(id), nil, &cs); err != nil {
			return err
		}
		conns = conns[:0]
		for _, e := range cs.Entries {
			if e.Outcome == offboard.Failed {
				conns = append(conns, e.Connector)
			}
		}
		if len(conns) == 0 {
			return fmt.Errorf("case %s has no failed entry (it is %s)", id, cs.State)
		}
	}
	b, _ := json.Marshal(o.body(name))
	var out []retryAnswer
	for _, conn := range conns {
		var a retryAnswer
		path := "/v1/cases/" + url.PathEscape(id) + "/entries/" + url.PathEscape(conn) + "/retry"
		if err := c.do(ctx, http.MethodPost, path, b, &a); err != nil {
			return fmt.Errorf("%s: %w", conn, err)
		}
		out = append(out, a)
		if !*o.json {
			queued := "queued"
			if !a.Queued {
				queued = "the relay will queue it"
			}
			fmt.Fprintf(stdout, "%s on case %s: %s again (%s); the case is %s\n", a.Entry.Connector, a.CaseID, a.Entry.Outcome, queued, a.CaseState)
		}
	}
	if *o.json {
		return printJSON(stdout, out)
	}
	return nil
}

// osUser is the name of the operating-system user, or "".
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// cmdCasesCancel calls off a case before revocation starts, through the
// admin API: "cases cancel ID --who NAME [--note TEXT]".
func cmdCasesCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := newOperatorFlags("cases cancel", "the person who cancels (required)", "why (a rehire, a mistake)", stderr)
	pos, err := o.parse(args, 1, "cases cancel ID --who NAME [--note TEXT]")
	if err != nil {
		return err
	}
	who, err := o.person("", "cancels")
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(o.body(who))
	var out struct {
		CaseID       string `json:"case_id"`
		CaseState    string `json:"case_state"`
		ClosedReason string `json:"closed_reason"`
		TasksRemoved int    `json:"tasks_removed"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/cases/"+url.PathEscape(pos[0])+"/cancel", b, &out); err != nil {
		return err
	}
	if *o.json {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "case %s %s (%s); %d offboard task(s) removed from the queue\n", out.CaseID, out.CaseState, out.ClosedReason, out.TasksRemoved)
	return nil
}
