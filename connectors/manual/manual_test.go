package manual_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/manual"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
)

const logout = "Lucid admin panel → Users → select the user → Log out user"

func build(t *testing.T, specs ...connectors.Spec) ([]connectors.Connector, error) {
	t.Helper()
	return connectors.Build(specs, registry.Connectors(), connectors.Deps{})
}

func TestRevokeAsksAPersonForEveryReason(t *testing.T) {
	cs, err := build(t, connectors.Spec{Name: "lucid-logout", Type: "manual", Settings: map[string]any{"instructions": "  " + logout + "\n"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []offboard.Reason{offboard.ReasonTerminated, offboard.ReasonSecurity, offboard.ReasonManual} {
		t.Run(string(r), func(t *testing.T) {
			ctx, detail := connectors.WithReport(t.Context())
			o, err := cs[0].Revoke(ctx, offboard.Subject{Email: "ann@example.com", Reason: r})
			if err != nil || o != offboard.ManualRequired {
				t.Fatalf("Revoke = %s, %v; want manual_required", o, err)
			}
			if got := detail(); got != logout {
				t.Errorf("detail = %q, want the instructions %q", got, logout)
			}
		})
	}
	if a := connectors.After(cs); len(a) != 0 {
		t.Errorf("After = %v, want none for a step without after", a)
	}
}

func TestAfterNamesTheStepItFollows(t *testing.T) {
	cs, err := build(t,
		connectors.Spec{Name: "lucid-logout", Type: "manual", Settings: map[string]any{"instructions": logout, "after": "lucid"}},
		connectors.Spec{Name: "lucid", Type: "manual", Settings: map[string]any{"instructions": "deactivate the user"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := connectors.After(cs); len(got) != 1 || got["lucid-logout"] != "lucid" {
		t.Errorf("After = %v, want lucid-logout → lucid", got)
	}
	if got := cs[0].(*manual.Connector).Instructions(); got != logout {
		t.Errorf("Instructions = %q", got)
	}
}

func TestBadConfigNamesTheKey(t *testing.T) {
	tests := []struct {
		name  string
		specs []connectors.Spec
		want  []string
	}{
		{"instructions are required", []connectors.Spec{
			{Name: "m", Type: "manual", Settings: map[string]any{"instructions": "  "}},
		}, []string{`connectors[0] (m).instructions: required: what a person does in the system to end the sessions`}},
		{"instructions fit the entry's detail", []connectors.Spec{
			{Name: "m", Type: "manual", Settings: map[string]any{"instructions": strings.Repeat("é", 2001)}},
		}, []string{`connectors[0] (m).instructions: at most 2000 characters, not 2001`}},
		{"an unknown key is named", []connectors.Spec{
			{Name: "m", Type: "manual", Settings: map[string]any{"instructions": logout, "before": "x"}},
		}, []string{`connectors[0] (m).before: unknown key (known: after, instructions)`}},
		{"after cannot name the step itself", []connectors.Spec{
			{Name: "m", Type: "manual", Settings: map[string]any{"instructions": logout, "after": "m"}},
		}, []string{`connectors[0] (m).after: names this connector itself; want another connector's name`}},
		{"after must name a configured connector", []connectors.Spec{
			{Name: "okta", Type: "manual", Settings: map[string]any{"instructions": logout}},
			{Name: "m", Type: "manual", Settings: map[string]any{"instructions": logout, "after": "lucid"}},
		}, []string{`connectors[1] (m).after: no connector is named "lucid"`}},
		{"steps cannot wait for each other", []connectors.Spec{
			{Name: "a", Type: "manual", Settings: map[string]any{"instructions": logout, "after": "b"}},
			{Name: "b", Type: "manual", Settings: map[string]any{"instructions": logout, "after": "c"}},
			{Name: "c", Type: "manual", Settings: map[string]any{"instructions": logout, "after": "a"}},
		}, []string{
			`connectors[0] (a).after: "b" comes back to this connector through after: the steps would wait for each other`,
			`connectors[1] (b).after: "c" comes back to this connector through after: the steps would wait for each other`,
			`connectors[2] (c).after: "a" comes back to this connector through after: the steps would wait for each other`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := build(t, tt.specs...)
			if err == nil || cs != nil {
				t.Fatalf("Build = %v, %v; want an error", cs, err)
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("Build error:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}
