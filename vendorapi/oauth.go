package vendorapi

import (
	"context"
	"net/url"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials returns a ClientOptions.Token that fetches tokens with
// the OAuth 2.0 client credentials grant (RFC 6749 §4.4) from tokenURL,
// for scopes and with params added to the form (e.g. Auth0's audience).
// The client id and secret go in the form body (RFC 6749 §2.3.1): every
// vendor offboarder calls accepts that, and it spares the extra round trip
// x/oauth2's auto-detection makes when Basic is refused first.
func ClientCredentials(clientID string, secret Secret, tokenURL string, scopes []string, params url.Values) func(context.Context) (*oauth2.Token, error) {
	cc := &clientcredentials.Config{
		ClientID:       clientID,
		ClientSecret:   string(secret),
		TokenURL:       tokenURL,
		Scopes:         scopes,
		EndpointParams: params,
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	return cc.Token
}
