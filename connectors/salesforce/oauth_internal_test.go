package salesforce

import "testing"

// The aud of a JWT bearer assertion follows the token endpoint: sandboxes
// log in at test.salesforce.com or their ….sandbox.my.salesforce.com My
// Domain, everything else is production.
func TestAudience(t *testing.T) {
	for tokenURL, want := range map[string]string{
		"https://login.salesforce.com/services/oauth2/token":                     "https://login.salesforce.com",
		"https://test.salesforce.com/services/oauth2/token":                      "https://test.salesforce.com",
		"https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token":      "https://test.salesforce.com",
		"https://acme.my.salesforce.com/services/oauth2/token":                   "https://login.salesforce.com",
		"https://Test.Salesforce.com:443/services/oauth2/token":                  "https://test.salesforce.com",
		"https://sandbox.my.salesforce.com.attacker.example/services/oauth2/tok": "https://login.salesforce.com",
	} {
		if got := audience(tokenURL); got != want {
			t.Errorf("audience(%q) = %q, want %q", tokenURL, got, want)
		}
	}
}

// The client credentials flow goes to the org's own token endpoint unless
// token_url says otherwise; the JWT bearer flow to login.salesforce.com.
func TestTokenURL(t *testing.T) {
	cc := Config{BaseURL: "https://acme.my.salesforce.com/", ClientSecret: "s"}
	if got := cc.tokenURL(); got != "https://acme.my.salesforce.com/services/oauth2/token" {
		t.Errorf("client credentials token url = %q", got)
	}
	jwt := Config{BaseURL: "https://acme.my.salesforce.com", Username: "u", PrivateKey: "k"}
	if got := jwt.tokenURL(); got != defaultTokenURL {
		t.Errorf("jwt bearer token url = %q", got)
	}
	jwt.TokenURL = "https://test.salesforce.com/services/oauth2/token"
	if got := jwt.tokenURL(); got != jwt.TokenURL {
		t.Errorf("token_url not used: %q", got)
	}
}

// A SOQL literal escapes what SOQL reserves, so no address can end it.
func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"a@example.com":       `'a@example.com'`,
		`o'brien@example.com`: `'o\'brien@example.com'`,
		`a\' OR Id != '`:      `'a\\\' OR Id != \''`,
		"\"q\"@example.com":   `'\"q\"@example.com'`,
		"a\nb\rc\td\be\ff":    `'a\nb\rc\td\be\ff'`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
