package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

func TestRevokeChart(t *testing.T) {
	first := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	day := func(i int) time.Time { return first.AddDate(0, 0, i) }
	rows := []store.RevokeTime{
		{Connector: "okta", Day: day(0), Count: 2, Mean: time.Second, Max: 2 * time.Second},
		{Connector: "okta", Day: day(2), Count: 2, Mean: 3 * time.Second, Max: 4 * time.Second},
		{Connector: `<script>x</script>`, Day: day(1), Count: 1, Mean: 500 * time.Millisecond, Max: 500 * time.Millisecond},
		{Connector: "old", Day: day(-1), Count: 9, Mean: time.Hour, Max: time.Hour}, // before the period
	}
	d := revokeChart(rows, first, 3)
	svg := string(d.Chart)
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") {
		t.Fatalf("a system's name is not escaped:\n%s", svg)
	}
	if strings.Contains(svg, ">old<") {
		t.Fatalf("a day before the period is drawn:\n%s", svg)
	}
	if n := strings.Count(svg, `rx="2"`); n != 3 { // the bars; the row stripes are square
		t.Fatalf("%d bars, want 3 (one per system and day with answers):\n%s", n, svg)
	}
	if len(d.Rows) != 2 || d.Rows[1].Connector != "okta" || d.Rows[1].Count != 4 || d.Rows[1].Mean != 2*time.Second || d.Rows[1].Max != 4*time.Second {
		t.Fatalf("rows = %+v", d.Rows)
	}
	if !strings.Contains(svg, "2.0 s") {
		t.Fatalf("okta's mean over the period is not written:\n%s", svg)
	}
	if empty := revokeChart(nil, first, 3); empty.Chart != "" || len(empty.Rows) != 0 {
		t.Fatalf("nothing to draw drew %+v", empty)
	}
}

// TestUIButtons: each button is drawn only when its write is offered
// (uiForms), and then posts to its route with the form token.
func TestUIButtons(t *testing.T) {
	now := time.Now()
	failed := &store.Case{ID: "c1", Email: "a@example.com", State: offboard.StatePending, Reason: offboard.ReasonTerminated,
		CreatedAt: now, EffectiveAt: now, Entries: []store.Entry{
			{Connector: "github", Outcome: offboard.Failed, CreatedAt: now},
			{Connector: "lucid", Outcome: offboard.ManualRequired, CreatedAt: now}}}
	held := &casesData{State: "awaiting_approval", States: offboard.States, Page: 1}
	buttons := map[string]string{
		"attest":  `action="/ui/cases/c1/entries/lucid/attest"`,
		"retry":   `action="/ui/cases/c1/entries/github/retry"`,
		"cancel":  `action="/ui/cases/c1/cancel"`,
		"approve": `action="/ui/approvals"`,
	}
	for _, offered := range []bool{false, true} {
		u := newUI(&Server{})
		for k := range buttons {
			u.can[k] = offered
		}
		page := render(t, u, "case", uiView{CSRF: "tok", Data: &caseData{Case: failed, Steps: map[string]string{}}}) +
			render(t, u, "cases", uiView{CSRF: "tok", Data: held})
		for name, form := range buttons {
			if strings.Contains(page, form) != offered {
				t.Errorf("%s offered %v: form shown %v", name, offered, !offered)
			}
		}
		if offered && strings.Count(page, `name="csrf" value="tok"`) != len(buttons)+2 { // + logout, on both pages
			t.Errorf("a form lacks the csrf token:\n%s", page)
		}
	}
}

func render(t *testing.T, u *ui, page string, v uiView) string {
	t.Helper()
	var b strings.Builder
	v.Can = u.can
	if err := u.pages[page].Execute(&b, v); err != nil {
		t.Fatalf("render %s: %v", page, err)
	}
	return b.String()
}
