package auth0

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token issues a Management API token for client credentials: grant_type
// client_credentials, client_id and client_secret in the body (or as HTTP
// Basic) and audience https://{tenant}/api/v2/, as a form or as JSON. A
// wrong client is 401 access_denied; another audience is 403.
// https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-production
func (a *auth0) token(w http.ResponseWriter, r *http.Request) {
	p, err := auth0TokenParams(w, r)
	if err != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if p.Get("grant_type") != "client_credentials" {
		fake.OAuth2Fail(w, http.StatusForbidden, "unauthorized_client", "Grant type '"+p.Get("grant_type")+"' not allowed for the client.")
		return
	}
	if !a.config().client().Is(fake.PresentedClient(r, p)) {
		fake.OAuth2Fail(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	}
	switch aud := p.Get("audience"); aud {
	case fake.CallerURL(r, "/auth0/api/v2/"):
	case "":
		fake.OAuth2Fail(w, http.StatusForbidden, "access_denied", "No audience parameter was provided, and no default audience has been configured")
		return
	default:
		fake.OAuth2Fail(w, http.StatusForbidden, "access_denied", "Service not found: "+aud)
		return
	}
	access := a.tokens.Mint("sim-auth0-mgmt-", 24, auth0TokenLife)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "scope": auth0Scopes,
		"expires_in": int(auth0TokenLife.Seconds()), "token_type": "Bearer"})
}

// auth0TokenParams reads a token request from a form or a JSON body.
func auth0TokenParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	p := url.Values{}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		var body map[string]string
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, fake.MaxBody)).Decode(&body); err != nil {
			return nil, err
		}
		for k, v := range body {
			p.Set(k, v)
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		p = r.PostForm
	}
	return p, nil
}
