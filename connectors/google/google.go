// Package google is the google connector: it signs a person out of every
// Google Workspace web and device session through the Admin SDK Directory
// API, deletes the OAuth tokens they granted to applications, and lists
// them again to verify.
package google

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"

	"golang.org/x/oauth2/jwt"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Google's documentation, cited below by these names:
//
//	[signout]     https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
//	[tokens-list] https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/list
//	[tokens-del]  https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
//	[limits]      https://developers.google.com/workspace/admin/directory/v1/limits
//	[errors]      https://developers.google.com/workspace/admin/directory/v1/limits (error body: code, message, errors[].reason)
//	              and https://cloud.google.com/apis/design/errors (status, the canonical code)
//	[sa]          https://developers.google.com/identity/protocols/oauth2/service-account
//	[retry-after] https://github.com/googleworkspace/cli/issues/777 (Google's rate-limit answers often carry Retry-After)

const (
	// securityScope is the one scope the connector asks for: users.signOut,
	// tokens.list and tokens.delete all take it [signout][tokens-list][tokens-del].
	securityScope   = "https://www.googleapis.com/auth/admin.directory.user.security"
	directoryPath   = "/admin/directory/v1"
	defaultBaseURL  = "https://admin.googleapis.com"
	defaultTokenURL = "https://oauth2.googleapis.com/token"
	// tokenRounds bounds the delete-and-list rounds over a user's
	// OAuth tokens (see Google.revoke).
	tokenRounds = 2
)

// Config is the settings of a google connector.
type Config struct {
	// Credentials is the service account's JSON key, as Google's console
	// downloads it. The service account needs domain-wide delegation for
	// https://www.googleapis.com/auth/admin.directory.user.security.
	Credentials vendorapi.Secret `json:"credentials"`
	// AdminEmail is the Workspace admin the service account acts as (the
	// assertion's sub [sa]); the admin needs the right to manage users'
	// security settings.
	AdminEmail string `json:"admin_email"`
	// BaseURL is the Directory API's root without /admin/directory/v1;
	// empty means https://admin.googleapis.com.
	BaseURL string `json:"base_url"`
	// TokenURL is where access tokens are fetched; empty means the key's
	// token_uri, or https://oauth2.googleapis.com/token without one.
	TokenURL string `json:"token_url"`
}

// key parses the credentials; its errors never echo them.
func (c *Config) key() (vendorapi.GoogleServiceAccount, error) {
	return vendorapi.ParseGoogleServiceAccount(string(c.Credentials))
}

func (c *Config) baseURL() string {
	if c.BaseURL == "" {
		return defaultBaseURL
	}
	return c.BaseURL
}

// tokenURL is token_url, else the key's token_uri, else Google's.
func (c *Config) tokenURL(k vendorapi.GoogleServiceAccount) string {
	switch {
	case c.TokenURL != "":
		return c.TokenURL
	case k.TokenURI != "":
		return k.TokenURI
	}
	return defaultTokenURL
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.baseURL()); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.baseURL()); strings.Contains(strings.TrimSuffix(u.Path, "/"), "/admin/directory") {
		// With the API path here every path would 404, which reads as "no such user".
		errs = append(errs, vendorapi.FieldErr("base_url", "give the root without /admin/directory/v1, e.g. https://admin.googleapis.com"))
	}
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	if c.Credentials == "" {
		errs = append(errs, vendorapi.FieldErr("credentials", "required"))
	} else if k, err := c.key(); err != nil {
		errs = append(errs, vendorapi.KeyErr("credentials", err))
	} else if c.TokenURL == "" && k.TokenURI != "" {
		if err := vendorapi.CheckURL(k.TokenURI); err != nil {
			errs = append(errs, vendorapi.FieldErr("credentials", "the json key's token_uri: %v", err))
		}
	}
	if c.AdminEmail == "" {
		errs = append(errs, vendorapi.FieldErr("admin_email", "required"))
	} else if a, err := mail.ParseAddress(c.AdminEmail); err != nil || a.Address != c.AdminEmail {
		errs = append(errs, vendorapi.FieldErr("admin_email", "must be a bare address like admin@example.com"))
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	k, err := c.key()
	if err != nil {
		return nil, vendorapi.KeyErr("credentials", err)
	}
	// [sa]: an RS256 assertion with iss = the service account, sub = the
	// admin it acts as, scope, and aud = the token URL, traded for an
	// access token with grant_type urn:ietf:params:oauth:grant-type:jwt-bearer.
	jc := &jwt.Config{
		Email:        k.ClientEmail,
		PrivateKey:   []byte(k.PrivateKey),
		PrivateKeyID: k.PrivateKeyID,
		Subject:      c.AdminEmail,
		Scopes:       []string{securityScope},
		TokenURL:     c.tokenURL(k),
	}
	api, err := vendorapi.NewClient(name, c.baseURL(), d.HTTPClient, vendorapi.ClientOptions{
		Token:       vendorapi.GoogleToken(jc),
		VendorError: vendorapi.GoogleError,
		RateLimited: vendorapi.GoogleRateLimited,
		Secrets:     []string{k.PrivateKey, string(c.Credentials)},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, admin: c.AdminEmail, api: api}, nil
}

// Connector signs a person out of every Google Workspace web and device
// session and deletes the OAuth tokens they granted to applications.
type Connector struct {
	name  string
	admin string
	api   *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// tokenList is a tokens.list answer [tokens-list]; Google leaves items
// out when there is none.
type tokenList struct {
	Items []struct {
		ClientID    string `json:"clientId"`
		DisplayText string `json:"displayText"`
	} `json:"items"`
}

// Name returns the configured connector name.
func (g *Connector) Name() string { return g.name }

// Revoke signs the subject out and deletes their OAuth tokens. The user is
// the one with the subject's Google id if the event carried one, else (or
// when Google does not know that id) the one whose primary or alias email
// is the subject's email [signout].
//
// It answers Verified when a listing started after the sign-out answered
// (and after the deletes, if there were tokens) shows no token left,
// Acknowledged when tokens keep appearing (see revoke), and NotFound when
// Google has no such user. Web and device sessions have no listing to
// re-read: users.signOut's success is Google's word that they are ended.
func (g *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	var keys []string
	if id := s.IDs["google"]; id != "" {
		keys = append(keys, id)
	}
	if email := strings.TrimSpace(s.Email); email != "" {
		keys = append(keys, email)
	}
	if len(keys) == 0 {
		return "", &vendorapi.Error{System: g.name, Kind: vendorapi.Invalid, Msg: "subject has neither an email nor a google id"}
	}
	for _, key := range keys {
		switch out, err := g.revoke(ctx, key); {
		case err == nil:
			return out, nil
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
		// 404: an id from another workspace or a user deleted since; try the email.
	}
	return offboard.NotFound, nil
}

// revoke signs out the user with userKey while listing their tokens,
// deletes each listed token, and lists again. Tokens listed again are
// deleted once more: an application that obtained a token through a web
// session the sign-out had not yet ended, or refreshed one between the
// listing and the deletion, can show up in the second listing, and one more
// round covers that. Tokens still there after tokenRounds rounds are
// left to the job's next run (the outcome is Acknowledged): a vendor that
// keeps re-issuing is not chased in a loop. A 404 from signOut or a listing
// is a vendorapi.NotFound *vendorapi.Error (no such user, or deleted since).
func (g *Connector) revoke(ctx context.Context, userKey string) (offboard.Outcome, error) {
	user := directoryPath + "/users/" + url.PathEscape(userKey)
	// [signout]: POST with an empty body; success is an empty answer. A 404
	// (reason notFound) means no such user [errors]. Google documents no
	// dependency between users.signOut and tokens.list [signout][tokens-list],
	// so the sign-out and the first listing are sent together. The listing
	// that decides the outcome always starts after the sign-out has
	// answered, as it did when they were sent one after the other: a
	// token granted through a session still open while the first listing
	// was read shows up in the listing after the deletions; and a first
	// listing with no token is read again below.
	var left tokenList
	err := vendorapi.Concurrently(ctx,
		func(ctx context.Context) error {
			_, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: user + "/signOut"}, nil)
			return err
		},
		func(ctx context.Context) (err error) { left, err = g.tokens(ctx, user); return err },
	)
	if err != nil {
		return "", err
	}
	log := g.api.Logger(ctx)
	log.Info().Str("connector", g.name).Str("google_user", userKey).Msg("google user signed out of every session")
	if len(left.Items) == 0 {
		// This listing may have been read before the sign-out took effect,
		// so it is not yet the word that no token is left.
		if left, err = g.tokens(ctx, user); err != nil {
			return "", err
		}
	}
	deleted := 0
	for round := 0; len(left.Items) > 0 && round < tokenRounds; round++ {
		dels := make([]func(context.Context) error, len(left.Items))
		for i, t := range left.Items {
			// [tokens-del]: deletes every token the user issued to this
			// client; success is an empty answer. A 404 means the token is
			// gone already, which is what we want. Each client's deletion
			// is independent of the others'.
			dels[i] = vendorapi.DeleteGone(g.api, user+"/tokens/"+url.PathEscape(t.ClientID))
		}
		if err := vendorapi.Concurrently(ctx, dels...); err != nil {
			return "", err
		}
		deleted += len(dels)
		if left, err = g.tokens(ctx, user); err != nil {
			return "", err
		}
	}
	if n := len(left.Items); n > 0 {
		log.Warn().Str("connector", g.name).Str("google_user", userKey).Int("deleted", deleted).Int("left", n).
			Msg("google oauth tokens keep appearing after their deletion")
		return offboard.Acknowledged, nil
	}
	log.Info().Str("connector", g.name).Str("google_user", userKey).Int("deleted", deleted).
		Msg("google oauth tokens deleted; none left")
	return offboard.Verified, nil
}

// tokens is GET …/users/{userKey}/tokens [tokens-list].
func (g *Connector) tokens(ctx context.Context, user string) (tokenList, error) {
	var ts tokenList
	_, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: user + "/tokens"}, &ts)
	return ts, err
}

// Check lists the admin's own OAuth tokens [tokens-list]: the cheapest read
// that the connector's one scope allows (users.list needs a user-read
// scope the connector does not ask for). It fails with a vendorapi.Auth *vendorapi.Error when
// the key is rejected or domain-wide delegation is not granted (the token
// endpoint's invalid_grant or unauthorized_client [sa]), or when the admin
// lacks the privilege (403).
func (g *Connector) Check(ctx context.Context) error {
	_, err := g.tokens(ctx, directoryPath+"/users/"+url.PathEscape(g.admin))
	return err
}
