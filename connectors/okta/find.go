package okta

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/vendorapi"
)

var _ connectors.Finder = (*Connector)(nil)

// FindEmail implements connectors.Finder: GET /api/v1/users/{id} [get-user]
// and the user's profile.email (its login when the profile has no email).
// A 404 (E0000007) is found = false; so is an id holding "/", which cannot
// be a path segment. The id is what an SSF transmitter's iss_sub or opaque
// subject names: the Okta user id.
func (o *Connector) FindEmail(ctx context.Context, id string) (string, bool, error) {
	id = strings.TrimSpace(id)
	if id == "" || strings.Contains(id, "/") {
		return "", false, nil
	}
	var u user
	_, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v1/users/" + url.PathEscape(id)}, &u)
	switch {
	case vendorapi.IsKind(err, vendorapi.NotFound):
		return "", false, nil
	case err != nil:
		return "", false, err
	case u.Profile.Email != "":
		return u.Profile.Email, true, nil
	case strings.Contains(u.Profile.Login, "@"):
		return u.Profile.Login, true, nil
	}
	return "", false, &vendorapi.Error{System: o.name, Kind: vendorapi.Invalid, Msg: "okta user " + id + " has no email"}
}
