package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// uiPageSize is how many cases a page of the list shows.
const uiPageSize = 100

// casesData is the cases list page.
type casesData struct {
	Email, State, Source, From, To string
	States                         []offboard.State
	Cases                          []store.Case
	Page                           int
	Prev, Next                     string // links to the neighbouring pages; "" at an end
}

// casesPage lists the cases, newest first, a page at a time, filtered by
// email, state, source and creation date (from, to: YYYY-MM-DD, UTC, both
// days included). A bad filter is named above an empty list (400).
func (u *ui) casesPage(c *gin.Context) {
	d := casesData{Email: c.Query("email"), State: c.Query("state"), Source: c.Query("source"),
		From: c.Query("from"), To: c.Query("to"), States: offboard.States, Page: 1}
	p := store.CasePage{State: offboard.State(d.State), Source: strings.TrimSpace(d.Source), Limit: uiPageSize}
	var problem string
	if n, err := strconv.Atoi(c.DefaultQuery("page", "1")); err == nil && n >= 1 && n <= 100000 {
		d.Page = n
	} else {
		problem = "page: want a page number"
	}
	if strings.TrimSpace(d.Email) != "" {
		email, err := sources.NormalizeEmail(d.Email)
		if err != nil {
			problem = "email: " + err.Error()
		}
		p.Email = email
	}
	if d.State != "" && !knownState(p.State) {
		problem = "state: not a case state"
	}
	var err error
	if p.From, err = uiDate(d.From); err != nil {
		problem = "from: want a date, YYYY-MM-DD"
	}
	if p.To, err = uiDate(d.To); err != nil {
		problem = "to: want a date, YYYY-MM-DD"
	} else if !p.To.IsZero() {
		p.To = p.To.AddDate(0, 0, 1)
	}
	v := uiView{Title: "Cases", Nav: "cases", Data: &d}
	if problem != "" {
		v.Error = problem
		u.render(c, http.StatusBadRequest, "cases", v)
		return
	}
	p.Offset = (d.Page - 1) * uiPageSize
	cases, more, err := u.s.opts.Store.PageCases(c.Request.Context(), p)
	if err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("ui: page cases")
		v.Error = "The store is unavailable; try again shortly."
		u.render(c, http.StatusServiceUnavailable, "cases", v)
		return
	}
	d.Cases = cases
	q := c.Request.URL.Query()
	if d.Page > 1 {
		q.Set("page", strconv.Itoa(d.Page-1))
		d.Prev = "?" + q.Encode()
	}
	if more {
		q.Set("page", strconv.Itoa(d.Page+1))
		d.Next = "?" + q.Encode()
	}
	u.render(c, http.StatusOK, "cases", v)
}

func knownState(s offboard.State) bool {
	for _, k := range offboard.States {
		if k == s {
			return true
		}
	}
	return false
}

// uiDate reads a date field: "" is the zero time.
func uiDate(s string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// caseData is a case's page.
type caseData struct {
	Case     *store.Case
	Steps    map[string]string // connector → the entry a manual step still waits for
	Timeline []timelineItem
	Done     string // what the last form did, said once after its redirect
}

// timelineItem is one line of a case's timeline: an event received or an
// audit row (outcomes, attestations, who acted).
type timelineItem struct {
	At        time.Time
	What      string
	Actor     string
	Connector string
	Detail    string
}

func (u *ui) casePage(c *gin.Context) {
	u.showCase(c, http.StatusOK, c.Param("id"), "")
}

// showCase renders a case's page with status, and problem above it.
func (u *ui) showCase(c *gin.Context, status int, id, problem string) {
	cs, err := u.s.opts.Store.GetCase(c.Request.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u.render(c, http.StatusNotFound, "case", uiView{Title: "No such case", Nav: "cases", Error: "There is no case " + id + "."})
		return
	case err != nil:
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("ui: get case")
		u.render(c, http.StatusServiceUnavailable, "case", uiView{Title: "Case", Nav: "cases", Error: "The store is unavailable; try again shortly."})
		return
	}
	d := caseData{Case: cs, Steps: map[string]string{}, Done: doneText[c.Query("done")]}
	outcomes := make(map[string]offboard.Outcome, len(cs.Entries))
	for _, e := range cs.Entries {
		outcomes[e.Connector] = e.Outcome
	}
	for _, e := range cs.Entries {
		if w, _ := waitsFor(u.s.opts.After, e.Connector, outcomes); w != "" {
			d.Steps[e.Connector] = w
		}
	}
	for _, ev := range cs.Events {
		d.Timeline = append(d.Timeline, timelineItem{At: ev.ReceivedAt, What: "event " + ev.Type + " (" + string(ev.Reason) + ")",
			Actor: "source:" + ev.Source, Detail: "event id " + ev.EventID})
	}
	for _, a := range cs.Audit {
		d.Timeline = append(d.Timeline, timelineItem{At: a.At, What: a.Action, Actor: a.Actor, Connector: a.Connector, Detail: readable(a.Detail)})
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	u.render(c, status, "case", uiView{Title: cs.Email, Nav: "cases", Error: problem, Data: &d})
}

// readable turns an audit row's JSON detail into "key: value · …" (keys
// sorted, lists joined with commas); any other detail is kept as it is.
func readable(detail string) string {
	if !strings.HasPrefix(detail, "{") {
		return detail
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(detail), &m); err != nil {
		return detail
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if l, ok := v.([]any); ok {
			s := make([]string, len(l))
			for i, x := range l {
				s[i] = fmt.Sprint(x)
			}
			v = strings.Join(s, ", ")
		}
		parts = append(parts, k+": "+fmt.Sprint(v))
	}
	return strings.Join(parts, " · ")
}

// doneText is what a case's page says after a form's redirect (?done=…).
var doneText = map[string]string{
	"attest": "Recorded: the manual step is attested.",
	"retry":  "Queued again: the failed entry is pending and its revoke runs shortly.",
	"cancel": "Cancelled: nothing will be revoked for this case.",
}

// operatorForm reads an attestation's, a retry's or a cancellation's who
// and note, and shows the case with a 400 when they are not right; ask is
// the question a missing who is met with.
func (u *ui) operatorForm(c *gin.Context, id, ask string) (who, note string, ok bool) {
	who, note = strings.TrimSpace(c.PostForm("who")), strings.TrimSpace(c.PostForm("note"))
	switch {
	case who == "":
		u.showCase(c, http.StatusBadRequest, id, ask+" Give your name.")
	case utf8.RuneCountInString(who) > store.MaxAttestWho:
		u.showCase(c, http.StatusBadRequest, id, "Who: at most "+strconv.Itoa(store.MaxAttestWho)+" characters.")
	case utf8.RuneCountInString(note) > store.MaxAttestNote:
		u.showCase(c, http.StatusBadRequest, id, "Note: at most "+strconv.Itoa(store.MaxAttestNote)+" characters.")
	default:
		return who, note, true
	}
	return "", "", false
}

// refusal shows the store's refusal of a retry or a cancellation on the
// case's page with the status the API would answer; false when err is nil.
func (u *ui) refusal(c *gin.Context, id, what string, err error) bool {
	var (
		nr *store.NotRetryableError
		se *store.CaseStateError
		oc *store.OpenCaseError
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &nr):
		u.showCase(c, http.StatusConflict, id, "Not retried: "+nr.Error()+".")
	case errors.As(err, &se):
		u.showCase(c, http.StatusConflict, id, "Not "+what+": "+se.Error()+".")
	case errors.As(err, &oc):
		u.showCase(c, http.StatusConflict, id, "Not "+what+": "+oc.Error()+".")
	case errors.Is(err, store.ErrNotFound):
		u.showCase(c, http.StatusNotFound, id, "")
	default:
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("ui: " + what)
		u.showCase(c, http.StatusServiceUnavailable, id, "The store is unavailable; try again shortly.")
	}
	return true
}

// retry is the retry button of a failed entry: the same store call and
// queueing as POST /v1/cases/{id}/entries/{connector}/retry, then back to
// the case (303).
func (u *ui) retry(c *gin.Context) {
	id, connector := c.Param("id"), c.Param("connector")
	who, note, ok := u.operatorForm(c, id, "Who asks?")
	if !ok {
		return
	}
	if _, _, _, err := u.s.retryEntry(c.Request.Context(), id, connector, who, note); u.refusal(c, id, "retried", err) {
		return
	}
	c.Redirect(http.StatusSeeOther, "/ui/cases/"+url.PathEscape(id)+"?done=retry")
}

// cancel is the cancel button of a scheduled or pending case: the same
// store call and task removal as POST /v1/cases/{id}/cancel, then back to
// the case (303).
func (u *ui) cancel(c *gin.Context) {
	id := c.Param("id")
	who, note, ok := u.operatorForm(c, id, "Who asks?")
	if !ok {
		return
	}
	if _, _, err := u.s.cancelCase(c.Request.Context(), id, who, note); u.refusal(c, id, "cancelled", err) {
		return
	}
	c.Redirect(http.StatusSeeOther, "/ui/cases/"+url.PathEscape(id)+"?done=cancel")
}

// attest is the attestation form of a manual step (who, note): the same
// checks and store call as POST /v1/cases/{id}/entries/{connector}/attest,
// then back to the case (303). A problem is shown on the case's page with
// the status the API would answer.
func (u *ui) attest(c *gin.Context) {
	ctx := c.Request.Context()
	id, connector := c.Param("id"), c.Param("connector")
	who, note, ok := u.operatorForm(c, id, "Who did the step?")
	if !ok {
		return
	}
	cs, err := u.s.opts.Store.GetCase(ctx, id)
	if err != nil {
		u.showCase(c, http.StatusNotFound, id, "")
		return
	}
	outcomes := make(map[string]offboard.Outcome, len(cs.Entries))
	for _, e := range cs.Entries {
		outcomes[e.Connector] = e.Outcome
	}
	if w, o := waitsFor(u.s.opts.After, connector, outcomes); w != "" && outcomes[connector] == offboard.ManualRequired {
		u.showCase(c, http.StatusConflict, id, "This step waits for "+w+", which is "+string(o)+": attest it once that is done.")
		return
	}
	_, row, err := u.s.opts.Store.AttestEntry(ctx, id, connector, who, note)
	var na *store.NotAttestableError
	switch {
	case errors.As(err, &na):
		u.showCase(c, http.StatusConflict, id, "Not attested: the "+connector+" "+na.Error()+".")
		return
	case errors.Is(err, store.ErrNotFound):
		u.showCase(c, http.StatusNotFound, id, "The case has no entry for "+connector+".")
		return
	case err != nil:
		zerolog.Ctx(ctx).Error().Err(err).Msg("ui: attest")
		u.showCase(c, http.StatusServiceUnavailable, id, "The store is unavailable; try again shortly.")
		return
	}
	zerolog.Ctx(ctx).Info().Str("case_id", id).Str("connector", connector).
		Str("case_state", string(row.State)).Msg("manual step attested")
	c.Redirect(http.StatusSeeOther, "/ui/cases/"+url.PathEscape(id)+"?done=attest")
}

func (u *ui) manualPage(c *gin.Context) {
	entries, err := u.s.opts.Store.ManualEntries(c.Request.Context(), 1000)
	v := uiView{Title: "Manual steps", Nav: "manual"}
	if err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("ui: manual steps")
		v.Error = "The store is unavailable; try again shortly."
		u.render(c, http.StatusServiceUnavailable, "manual", v)
		return
	}
	steps := make([]manualStep, len(entries))
	for i, e := range entries {
		steps[i] = manualStep{CaseID: e.CaseID, Email: e.Email, Reason: e.Reason, CaseState: e.CaseState,
			Connector: e.Connector, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
		if w, _ := waitsFor(u.s.opts.After, e.Connector, e.Outcomes); w != "" {
			steps[i].WaitingFor = w
		} else {
			steps[i].Instructions = e.Instructions
		}
	}
	v.Data = steps
	u.render(c, http.StatusOK, "manual", v)
}

// timesPage draws each system's time to revoke over the last days (?days,
// 1 to 90, default 14).
func (u *ui) timesPage(c *gin.Context) {
	days := 14
	if n, err := strconv.Atoi(c.DefaultQuery("days", "14")); err == nil && n >= 1 && n <= 90 {
		days = n
	}
	now := time.Now().UTC()
	first := now.Truncate(24*time.Hour).AddDate(0, 0, -(days - 1))
	rows, err := u.s.opts.Store.RevokeTimes(c.Request.Context(), first)
	v := uiView{Title: "Time to revoke", Nav: "times"}
	if err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("ui: revoke times")
		v.Error = "The store is unavailable; try again shortly."
		u.render(c, http.StatusServiceUnavailable, "times", v)
		return
	}
	v.Data = revokeChart(rows, first, days)
	u.render(c, http.StatusOK, "times", v)
}

// approve is the release button of the held cases (the list filtered to
// awaiting_approval): the same call as POST /v1/approvals with "all",
// then the list of every case (303).
func (u *ui) approve(c *gin.Context) {
	who, note := strings.TrimSpace(c.PostForm("who")), strings.TrimSpace(c.PostForm("note"))
	problem := ""
	switch {
	case who == "":
		problem = "Who approves? Give your name."
	case utf8.RuneCountInString(who) > store.MaxAttestWho:
		problem = "Who: at most " + strconv.Itoa(store.MaxAttestWho) + " characters."
	case utf8.RuneCountInString(note) > store.MaxAttestNote:
		problem = "Note: at most " + strconv.Itoa(store.MaxAttestNote) + " characters."
	}
	v := uiView{Title: "Cases", Nav: "approvals", Data: &casesData{State: string(offboard.StateAwaitingApproval), States: offboard.States, Page: 1}}
	if problem != "" {
		v.Error = problem
		u.render(c, http.StatusBadRequest, "cases", v)
		return
	}
	ctx := c.Request.Context()
	res, err := u.s.intake.Approve(ctx, store.Approval{All: true, Who: who, Note: note})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("ui: approve")
		v.Error = "The store is unavailable; try again shortly."
		u.render(c, http.StatusServiceUnavailable, "cases", v)
		return
	}
	zerolog.Ctx(ctx).Info().Int("released", len(res.Released)).Msg("held cases approved")
	c.Redirect(http.StatusSeeOther, "/ui/")
}
