package onelogin

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token issues an access token for an API credential pair: grant_type
// client_credentials as a form with client_id and client_secret, or as
// JSON with the pair in "Authorization: client_id:…, client_secret:…" or
// HTTP Basic. A wrong pair is 401 "Authentication Failure", another grant
// 400 "grant_type is incorrect/absent", in the v1 status shape those pages
// show.
// https://developers.onelogin.com/api-docs/2/oauth20-tokens/generate-tokens-2
func (o *onelogin) token(w http.ResponseWriter, r *http.Request) {
	p, err := oneloginTokenParams(w, r)
	if err != nil || p.Get("grant_type") != "client_credentials" {
		oneloginFailV1(w, http.StatusBadRequest, "bad request", "grant_type is incorrect/absent")
		return
	}
	if !o.config().client().Is(p.Get("client_id"), p.Get("client_secret")) {
		oneloginFailV1(w, http.StatusUnauthorized, "Unauthorized", "Authentication Failure")
		return
	}
	now := time.Now()
	access := o.tokens.Mint("", 32, oneloginTokenLife)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "created_at": now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"expires_in": int(oneloginTokenLife.Seconds()), "refresh_token": "", "token_type": "bearer", "account_id": oneloginAccountID})
}

// oneloginTokenParams reads a token request: a form, or a JSON body with
// the credential pair in the Authorization header.
func oneloginTokenParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.PostForm, nil
	}
	var body struct {
		GrantType string `json:"grant_type"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, fake.MaxBody)).Decode(&body); err != nil {
		return nil, err
	}
	p := url.Values{"grant_type": {body.GrantType}}
	if id, secret, ok := r.BasicAuth(); ok {
		p.Set("client_id", id)
		p.Set("client_secret", secret)
		return p, nil
	}
	// "Authorization: client_id:<client_id>, client_secret:<client_secret>"
	for part := range strings.SplitSeq(r.Header.Get("Authorization"), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), ":"); ok {
			p.Set(k, v)
		}
	}
	return p, nil
}
