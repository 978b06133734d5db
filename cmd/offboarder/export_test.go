package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/store"
)

func TestCasesExport(t *testing.T) {
	id, st := attestServer(t)
	if err := st.RecordAttempt(t.Context(), store.Attempt{CaseID: id, Connector: "lucid", N: 1, StartedAt: time.Now(), Duration: time.Millisecond, StatusCode: 200, Result: "manual_required"}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runMain(t.Context(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	today := time.Now().UTC().Format(time.DateOnly)

	t.Run("csv has one row per entry under the documented columns", func(t *testing.T) {
		code, out, errs := run("cases", "export", "--since", today, "--format", "csv")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || !slices.Equal(rows[0], []string{"case_id", "email", "reason", "state", "created_at", "connector",
			"outcome", "attempts", "first_attempt_at", "last_attempt_at", "detail"}) {
			t.Fatalf("rows = %q", rows)
		}
		r := rows[1]
		if r[0] != id || r[1] != "ann@example.com" || r[2] != "terminated" || r[3] != "needs_attention" || r[5] != "lucid" ||
			r[6] != "manual_required" || r[8] == "" || r[8] != r[9] || !strings.HasPrefix(r[10], "Lucid admin panel") {
			t.Errorf("row = %q", r)
		}
	})
	t.Run("json is the evidence documents", func(t *testing.T) {
		code, out, errs := run("cases", "export", "--since", today, "--until", today, "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var doc struct {
			GeneratedAt time.Time        `json:"generated_at"`
			Cases       []store.Evidence `json:"cases"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if doc.GeneratedAt.IsZero() || len(doc.Cases) != 1 || doc.Cases[0].Case.ID != id || len(doc.Cases[0].Attempts) != 1 || doc.Cases[0].AuditHead.Seq == 0 {
			t.Errorf("doc = %s", out)
		}
	})
	t.Run("a period before the case is empty", func(t *testing.T) {
		code, out, _ := run("cases", "export", "--since", "2020-01-01", "--until", "2020-12-31")
		if code != 0 || strings.Count(out, "\n") != 1 {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("dates and formats are checked with a clear error", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--format", "csv"}, "--since is required"},
			{[]string{"--since", "31/01/2026"}, `--since: "31/01/2026" is not a date: want YYYY-MM-DD`},
			{[]string{"--since", "2026-01-31", "--until", "soon"}, `--until: "soon" is not a date`},
			{[]string{"--since", "2026-02-01", "--until", "2026-01-01"}, "--until (2026-01-02T00:00:00Z) must be after --since"},
			{[]string{"--since", "2026-01-01", "--format", "xlsx"}, "--format: want csv or json"},
		} {
			code, _, errs := run(append([]string{"cases", "export"}, tt.args...)...)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, errs, tt.want)
			}
		}
	})
}
