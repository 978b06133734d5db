package connectors_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// echoConfig is a connector type of the test's own: Build's machinery is
// the parent's, whatever systems the type map holds.
type echoConfig struct {
	URL   string           `json:"url"`
	Token vendorapi.Secret `json:"token"`
}

func (c *echoConfig) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, vendorapi.FieldErr("url", "required"))
	}
	if c.Token == "" {
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	}
	return errors.Join(errs...)
}

func (c *echoConfig) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	if d.HTTPClient == nil {
		return nil, errors.New("no shared HTTP client")
	}
	return echo(name), nil
}

type echo string

func (e echo) Name() string { return string(e) }

func (echo) Revoke(context.Context, offboard.Subject) (offboard.Outcome, error) {
	return offboard.Acknowledged, nil
}

var echoTypes = map[string]func() connectors.Config{
	"echo":  func() connectors.Config { return new(echoConfig) },
	"alpha": func() connectors.Config { return new(echoConfig) },
}

func TestTypesAreTheMapsKeysSorted(t *testing.T) {
	if got := connectors.Types(echoTypes); !slices.Equal(got, []string{"alpha", "echo"}) {
		t.Errorf("Types = %v, want [alpha echo]", got)
	}
}

func TestBuildOpensWhatTheTypeMapNames(t *testing.T) {
	cs, err := connectors.Build([]connectors.Spec{
		{Name: "a", Type: "echo", Settings: map[string]any{"url": "u", "token": "t"}},
		{Name: "b", Type: "alpha", Settings: map[string]any{"url": "u", "token": "t"}},
	}, echoTypes, connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name() != "a" || cs[1].Name() != "b" {
		t.Fatalf("Build = %v", cs)
	}
}

func TestBuildReportsEveryProblemOnceWithItsKeyPath(t *testing.T) {
	_, err := connectors.Build([]connectors.Spec{
		{Name: "a", Type: "echo", Settings: map[string]any{"url": 1, "tokn": "x"}},
		{Name: "b", Type: "okta"},
	}, echoTypes, connectors.Deps{})
	want := []string{
		`connectors[0] (a).tokn: unknown key (known: token, url)`,
		`connectors[0] (a).url: must be a string, not a number`,
		`connectors[0] (a).token: required`,
		`connectors[1] (b).type: unknown type "okta" (known: [alpha echo])`,
	}
	if err == nil {
		t.Fatal("Build succeeded, want errors")
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("Build error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
