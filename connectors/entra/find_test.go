package entra_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/vendorapi"
)

func TestEntraFindEmail(t *testing.T) {
	get := step{Method: "GET", Path: "/v1.0/users/" + entraID, Query: url.Values{"$select": {"id,mail,userPrincipalName"}}}
	user := func(mail, upn string) string {
		return fmt.Sprintf(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName)/$entity","id":%q,"mail":%s,"userPrincipalName":%q}`, entraID, mail, upn)
	}
	tests := []struct {
		name      string
		status    int
		body      string
		email     string
		found     bool
		retryable bool
		fails     bool
	}{
		{"a user's mail", 200, user(`"`+entraEmail+`"`, "adelev@contoso.onmicrosoft.com"), entraEmail, true, false, false},
		{"the userPrincipalName when mail is null", 200, user("null", entraEmail), entraEmail, true, false, false},
		{"an unknown object id is not found", 404, graphNotFound, "", false, false, false},
		{"throttling is retryable", 429, graphThrottled, "", false, true, true},
		{"an app without permission is an error", 403, graphDenied, "", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := get
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(entraFake(t, entraTokenAnswer{}, s))
			t.Cleanup(srv.Close)
			c, err := openEntra(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			email, found, err := c.(connectors.Finder).FindEmail(t.Context(), entraID)
			if (err != nil) != tt.fails || email != tt.email || found != tt.found {
				t.Fatalf("FindEmail = %q, %v, %v; want %q, %v, error %v", email, found, err, tt.email, tt.found, tt.fails)
			}
			if err != nil && vendorapi.Retryable(err) != tt.retryable {
				t.Fatalf("Retryable(%v) = %v, want %v", err, !tt.retryable, tt.retryable)
			}
		})
	}
}
