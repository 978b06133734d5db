package entra

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token issues an access token for client credentials: grant_type
// client_credentials, client_id, client_secret (or HTTP Basic) and scope
// {resource}/.default, where the resource is Graph's
// (https://graph.microsoft.com) or this fake's (http://host:port/entra).
// Refusals are the identity platform's error body (error,
// error_description with an AADSTS code, error_codes, timestamp, trace_id,
// correlation_id): an unknown app is 400 unauthorized_client
// (AADSTS700016), a wrong secret 401 invalid_client (AADSTS7000215), a bad
// scope 400 invalid_scope (AADSTS70011).
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
func (e *entra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		entraTokenFail(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	p := r.PostForm
	id, secret := fake.PresentedClient(r, p)
	o, tenant := e.config().client(), r.PathValue("tenant")
	switch {
	case p.Get("grant_type") != "client_credentials":
		entraTokenFail(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+p.Get("grant_type")+"'.")
	case !fake.SameSecret(id, o.ID):
		entraTokenFail(w, http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '"+id+"' was not found in the directory '"+tenant+"'.")
	case !fake.SameSecret(secret, o.Secret):
		entraTokenFail(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+id+"'.")
	case !slices.Contains([]string{entraGraphRoot + "/.default", fake.CallerURL(r, entraPrefix+"/.default")}, p.Get("scope")):
		entraTokenFail(w, http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope "+p.Get("scope")+" is not valid.")
	default:
		access := e.tokens.Mint("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.sim-entra-", 24, entraTokenLife)
		life := int(entraTokenLife.Seconds())
		fake.WriteJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": access})
	}
}

// entraTokenFail writes the identity platform's token error body, its
// description carrying the AADSTS code, trace and correlation ids and time.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response
func entraTokenFail(w http.ResponseWriter, status int, code string, aadsts int, description string) {
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	trace, corr := entraGUID(fake.RandomHex(16)), entraGUID(fake.RandomHex(16))
	fake.WriteJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, description, trace, corr, now),
		"error_codes":       []int{aadsts},
		"timestamp":         now,
		"trace_id":          trace,
		"correlation_id":    corr,
	})
}
