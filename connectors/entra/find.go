package entra

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/vendorapi"
)

var _ connectors.Finder = (*Connector)(nil)

// FindEmail implements connectors.Finder: GET
// /v1.0/users/{id}?$select=id,mail,userPrincipalName [get-user] and the
// user's mail, else its userPrincipalName. A 404 (Request_ResourceNotFound)
// is found = false; so is an id holding "/", which cannot be a path
// segment. The id is the Entra object id an SSF transmitter names.
func (e *Connector) FindEmail(ctx context.Context, id string) (string, bool, error) {
	id = strings.TrimSpace(id)
	if id == "" || strings.Contains(id, "/") {
		return "", false, nil
	}
	var u account
	q := url.Values{"$select": {"id,mail,userPrincipalName"}}
	_, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: usersPath + "/" + url.PathEscape(id), Query: q}, &u)
	switch {
	case vendorapi.IsKind(err, vendorapi.NotFound):
		return "", false, nil
	case err != nil:
		return "", false, err
	case u.Mail != "":
		return u.Mail, true, nil
	case u.UserPrincipalName != "":
		return u.UserPrincipalName, true, nil
	}
	return "", false, &vendorapi.Error{System: e.name, Kind: vendorapi.Invalid, Msg: "entra user " + id + " has no mail or userPrincipalName"}
}
