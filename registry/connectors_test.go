package registry_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/registry"
)

func TestConnectorTypes(t *testing.T) {
	got := connectors.Types(registry.Connectors())
	for _, want := range []string{"auth0", "entra", "google", "http", "keycloak", "manual", "okta", "onelogin", "scim"} {
		if !slices.Contains(got, want) {
			t.Errorf("Types() = %v, want %s among them", got, want)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Types() = %v, want them sorted", got)
	}
}

func TestBuildOpensEveryValidSpec(t *testing.T) {
	cs, err := connectors.Build([]connectors.Spec{
		{Name: "okta-prod", Type: "okta", Settings: map[string]any{"base_url": "https://example.okta.com", "token": "t1"}},
		{Name: "okta-dev", Type: "okta", Settings: map[string]any{"base_url": "https://dev.okta.com/", "token": "t2"}},
	}, registry.Connectors(), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name() != "okta-prod" || cs[1].Name() != "okta-dev" {
		t.Fatalf("Build = %v", cs)
	}
}

func TestBuildReportsEveryProblemTogether(t *testing.T) {
	const secret = "super-secret-token-value"
	specs := []connectors.Spec{
		{Name: "okta", Type: "okta", Settings: map[string]any{"base_url": "https://example.okta.com", "tokn": secret}},
		{Name: "x", Type: "nope"},
		{Name: "o2", Type: "okta", Settings: map[string]any{"base_url": "https://example.okta.com", "token": "t"}},
		{Name: "o3", Type: "okta", Settings: map[string]any{"base_url": "https://example.okta.com", "token": "t"}},
		{Name: "o4", Type: "okta", Settings: map[string]any{"base_url": "https://example.okta.com/api/v1", "token": 42}},
		{Name: "o5", Type: "okta", Settings: map[string]any{"base_url": "https://" + secret + "@example.okta.com", "token": "SSWS " + secret}},
		{Name: "o6", Type: "okta", Settings: map[string]any{"base_url": []any{"a"}, "token": true, "extra": 1}},
		{Name: "o7", Type: ""},
	}
	cs, err := connectors.Build(specs, registry.Connectors(), connectors.Deps{})
	if err == nil || cs != nil {
		t.Fatalf("Build = %v, %v; want no connectors and an error", cs, err)
	}
	known := fmt.Sprint(connectors.Types(registry.Connectors()))
	const oktaKeys = "base_url, client_id, dpop, forget_devices, key_id, private_key, scopes, token, token_url"
	want := []string{
		`connectors[0] (okta).tokn: unknown key (known: ` + oktaKeys + `)`,
		`connectors[0] (okta).token: required, or client_id + private_key for an OAuth service app`,
		`connectors[1] (x).type: unknown type "nope" (known: ` + known + `)`,
		`connectors[4] (o4).token: must be a string, not a number`,
		`connectors[4] (o4).base_url: give the org url without /api/v1, e.g. https://example.okta.com`,
		`connectors[5] (o5).base_url: must not hold credentials; put them in their own keys`,
		`connectors[5] (o5).token: give the token without the "SSWS " prefix`,
		`connectors[6] (o6).base_url: must be a string, not a list`,
		`connectors[6] (o6).extra: unknown key (known: ` + oktaKeys + `)`,
		`connectors[6] (o6).token: must be a string, not true or false`,
		`connectors[7] (o7).type: unknown type "" (known: ` + known + `)`,
	}
	got := strings.Split(err.Error(), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("Build error:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("Build error holds a secret value: %v", err)
	}
}

// Every type's default rate_limit is a real limit; the self-hosted and
// the vendor-neutral types have none.
func TestEveryDefaultRateLimitIsALimit(t *testing.T) {
	none := []string{"caep", "http", "keycloak", "manual"}
	for _, typ := range connectors.Types(registry.Connectors()) {
		d, ok := registry.Connectors()[typ]().(connectors.RateLimited)
		switch {
		case slices.Contains(none, typ) && ok:
			t.Errorf("%s has a default rate_limit (%v), want none", typ, d.DefaultRateLimit())
		case !slices.Contains(none, typ) && !ok:
			t.Errorf("%s has no default rate_limit; cite the vendor's documented limit", typ)
		case ok && d.DefaultRateLimit().IsZero():
			t.Errorf("%s's default rate_limit is no limit", typ)
		}
	}
}
