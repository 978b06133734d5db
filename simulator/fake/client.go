package fake

import (
	"cmp"
	"net/http"
	"net/url"
)

// Client is a confidential OAuth 2.0 client as a vendor's token endpoint
// knows it: its client_id and client_secret.
type Client struct {
	ID, Secret string
}

// Or is c with what it leaves empty taken from def.
func (c Client) Or(def Client) Client {
	return Client{ID: cmp.Or(c.ID, def.ID), Secret: cmp.Or(c.Secret, def.Secret)}
}

// Is reports, comparing in constant time, whether id and secret are c's.
func (c Client) Is(id, secret string) bool {
	return SameSecret(id, c.ID) && SameSecret(secret, c.Secret)
}

// PresentedClient is the client a token request authenticates as: the
// client_id and client_secret of its parameters p or, when p has no
// client_id, those of HTTP Basic (RFC 6749 §2.3.1), taken as they come.
func PresentedClient(r *http.Request, p url.Values) (id, secret string) {
	id, secret = p.Get("client_id"), p.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	return id, secret
}
