package keycloak

import (
	"mime"
	"net/http"
	"net/url"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token issues a service account's access token for client credentials:
// grant_type client_credentials with client_id and client_secret in the
// form or as HTTP Basic. An unknown realm is 404 "Realm does not exist", a
// missing grant_type 400 invalid_request, another grant 400
// unsupported_grant_type, a wrong client 401 unauthorized_client.
// https://www.keycloak.org/docs/latest/securing_apps/index.html
func (k *keycloak) token(w http.ResponseWriter, r *http.Request) {
	realm, client := k.config().withDefaults()
	if r.PathValue("realm") != realm {
		keycloakFail(w, http.StatusNotFound, "Realm does not exist")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	}
	if err := r.ParseForm(); err != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	}
	switch g := r.PostForm.Get("grant_type"); g {
	case "client_credentials":
	case "":
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	default:
		fake.OAuth2Fail(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
		return
	}
	id, sec := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsec, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(bid)
		sec, _ = url.QueryUnescape(bsec)
	}
	if !client.Is(id, sec) {
		fake.OAuth2Fail(w, http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
		return
	}
	access := k.tokens.Mint("sim-keycloak-", 24, keycloakTokenLife)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "expires_in": int(keycloakTokenLife.Seconds()),
		"refresh_expires_in": 0, "token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"})
}
