package sources

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The google source receives Admin SDK Reports API push notifications for
// admin activities (a user suspended or deleted in the Admin console or
// through the Directory API). Google's documentation, cited below by these
// names:
//
//	[push]     https://developers.google.com/workspace/admin/reports/v1/guides/push
//	[watch]    https://developers.google.com/workspace/admin/reports/reference/rest/v1/activities/watch
//	[list]     https://developers.google.com/workspace/admin/reports/reference/rest/v1/activities/list
//	[stop]     https://developers.google.com/workspace/admin/reports/reference/rest/v1/channels/stop
//	           (path admin/reports_v1/channels/stop in the API's discovery document:
//	           https://admin.googleapis.com/$discovery/rest?version=reports_v1)
//	[events]   https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-user-settings
//	[lag]      https://support.google.com/a/answer/7061566 (admin log events: near real time, a couple of minutes)
//	[sa]       https://developers.google.com/identity/protocols/oauth2/service-account
//	[limits]   https://developers.google.com/workspace/admin/reports/v1/limits

// Headers of a Reports API notification [push].
const (
	GoogleChannelIDHeader     = "X-Goog-Channel-ID"
	GoogleChannelTokenHeader  = "X-Goog-Channel-Token"
	GoogleResourceStateHeader = "X-Goog-Resource-State"
)

// Defaults of the google source.
const (
	// GoogleDefaultBaseURL is the Admin SDK's root; the source adds
	// /admin/reports/v1 and /admin/reports_v1.
	GoogleDefaultBaseURL  = "https://admin.googleapis.com"
	googleSourceTokenURL  = "https://oauth2.googleapis.com/token"
	googleReportsScope    = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
	googleChannelIDPrefix = "offboarder-"
	// GoogleMaxEvents bounds the events of one activity; a larger one is
	// malformed.
	GoogleMaxEvents = 1000
)

// googleDefaultEvents maps admin activity event names to reasons; `events`
// adds to it and overrides it. Both carry the user's primary email in
// USER_EMAIL [events].
var googleDefaultEvents = map[string]offboard.Reason{
	"SUSPEND_USER": offboard.ReasonSuspended,
	"DELETE_USER":  offboard.ReasonTerminated,
}

// googleEventNameRE is the form of an admin activity event name.
var googleEventNameRE = regexp.MustCompile(`^[A-Z0-9_]{1,128}$`)

// googleChannelIDRE is the form of the channel ids the source makes: the
// prefix and 32 lower-case hex digits (at most 64 characters, as channel
// ids of Google's push APIs are).
var googleChannelIDRE = regexp.MustCompile(`^offboarder-[0-9a-f]{32}$`)

// Google is an Admin SDK Reports API push source for admin activities. It
// acknowledges channel sync messages, authenticates every notification by
// its channel token, and turns the suspensions and deletions in an
// activity into events. Maintain keeps one channel per event name alive
// and polls the activities, so that a push Google dropped is still found.
type Google struct {
	name      string
	token     [32]byte         // SHA-256 of the channel token: compared in constant time
	secret    vendorapi.Secret // the channel token: sent when a channel is made, never logged
	tokenMark string
	notifyURL string
	events    map[string]offboard.Reason
	api       *vendorapi.Client
	now       func() time.Time
	newID     func() string
}

var (
	_ Source     = (*Google)(nil)
	_ Maintainer = (*Google)(nil)
)

// GoogleConfig is the settings of a google source.
type GoogleConfig struct {
	// ChannelToken is the secret Google sends back with every notification
	// (16 to 256 printable ASCII characters) [push].
	ChannelToken vendorapi.Secret `json:"channel_token"`
	// Credentials is the service account's JSON key [sa].
	Credentials vendorapi.Secret `json:"credentials"`
	// AdminEmail is the Workspace admin the service account acts as.
	AdminEmail string `json:"admin_email"`
	// NotificationURL is this source's public https URL.
	NotificationURL string `json:"notification_url"`
	// BaseURL is the Admin SDK's root (default GoogleDefaultBaseURL).
	BaseURL string `json:"base_url"`
	// TokenURL is the token endpoint (default: the key's token_uri, else
	// Google's).
	TokenURL string `json:"token_url"`
	// Events adds admin activity event names to the defaults, maps them to
	// another reason, or drops a default with ""; values are checked one by
	// one, to name the key.
	Events map[string]any `json:"events"`
}

// Validate implements Config.
func (c *GoogleConfig) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, vendorapi.FieldErr(key, format, a...)) }
	switch t := string(c.ChannelToken); {
	case t == "":
		bad("channel_token", "required: a random secret of 16 to 256 characters that Google sends back with every notification")
	case len(t) < 16:
		bad("channel_token", "too short: use at least 16 random characters")
	case len(t) > 256:
		// A channel token holds at most 256 characters [push].
		bad("channel_token", "longer than the 256 characters Google keeps")
	case !PrintableASCII(t):
		// It comes back in a header: spaces and controls would not survive.
		bad("channel_token", "use printable ASCII characters without spaces only")
	}
	key, err := googleParseKey(c.Credentials)
	if err != nil {
		errs = append(errs, vendorapi.KeyErr("credentials", err))
	}
	if c.AdminEmail == "" {
		bad("admin_email", "required: the Workspace admin the service account acts as")
	} else if a, err := mail.ParseAddress(c.AdminEmail); err != nil || a.Address != c.AdminEmail {
		bad("admin_email", "must be a bare address like admin@example.com")
	}
	if err := NotificationURL(c.NotificationURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("notification_url", err))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if strings.Contains(c.BaseURL, "/admin/") {
			bad("base_url", "give the root without /admin/reports/v1, e.g. %s", GoogleDefaultBaseURL)
		}
	}
	switch {
	case c.TokenURL != "":
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	case key.TokenURI != "":
		if err := vendorapi.CheckURL(key.TokenURI); err != nil {
			bad("credentials", "the json key's token_uri: %s", err)
		}
	}
	events, eerrs := c.events()
	errs = append(errs, eerrs...)
	if len(events) == 0 && len(c.Events) > 0 {
		bad("events", "no event name is left to watch")
	}
	return errors.Join(errs...)
}

// events is the event map: the defaults with Events over them.
func (c *GoogleConfig) events() (map[string]offboard.Reason, []error) {
	return EventReasons(googleDefaultEvents, c.Events, googleEventNameRE.MatchString,
		"not an admin activity event name such as SUSPEND_USER", true)
}

// Open implements Config.
func (c *GoogleConfig) Open(name string, d Deps) (Source, error) {
	key, err := googleParseKey(c.Credentials)
	if err != nil {
		return nil, vendorapi.KeyErr("credentials", err)
	}
	if c.BaseURL == "" {
		c.BaseURL = GoogleDefaultBaseURL
	}
	switch {
	case c.TokenURL != "":
	case key.TokenURI != "":
		c.TokenURL = key.TokenURI
	default:
		c.TokenURL = googleSourceTokenURL
	}
	events, _ := c.events() // checked by Validate
	now := d.Now
	if now == nil {
		now = time.Now
	}
	api, err := googleClient(c, key, d.HTTPClient)
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", err)
	}
	return &Google{
		name:      name,
		token:     HashSecret(c.ChannelToken),
		secret:    c.ChannelToken,
		tokenMark: googleMark(c.ChannelToken),
		notifyURL: c.NotificationURL,
		events:    events,
		api:       api,
		now:       now,
		newID:     googleChannelID,
	}, nil
}

// googleParseKey parses a service account's JSON key [sa]; its errors never
// echo it.
func googleParseKey(raw vendorapi.Secret) (vendorapi.GoogleServiceAccount, error) {
	if raw == "" {
		return vendorapi.GoogleServiceAccount{}, errors.New("required: the service account's JSON key (credentials or credentials_file)")
	}
	return vendorapi.ParseGoogleServiceAccount(string(raw))
}

// googleChannelID makes a new channel id: the prefix and 128 random bits.
func googleChannelID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return googleChannelIDPrefix + hex.EncodeToString(b[:])
}

// googleMark identifies a channel token in the stored channel state without
// keeping it (see entraMark).
func googleMark(token vendorapi.Secret) string {
	sum := sha256.Sum256([]byte("offboarder google channel_token\x00" + string(token)))
	return hex.EncodeToString(sum[:8])
}

// Name implements Source.
func (g *Google) Name() string { return g.name }

// Type implements Source.
func (g *Google) Type() string { return "google" }

// Handshake implements Source: a POST with X-Goog-Resource-State "sync" is
// the message Google sends when a channel starts [push]. It carries the
// channel's token like every notification, so it is authenticated first
// (a 401 otherwise), then acknowledged with 200 and nothing recorded. Any
// other request is not a handshake.
func (g *Google) Handshake(r *Request) (*Response, bool) {
	if r.Method != http.MethodPost || r.Header.Get(GoogleResourceStateHeader) != "sync" {
		return nil, false
	}
	if err := g.Verify(r); err != nil {
		return JSONResponse(http.StatusUnauthorized, map[string]string{"error": "invalid or missing channel token"}), true
	}
	return JSONResponse(http.StatusOK, map[string]string{"status": "ignored", "reason": "google: channel sync message"}), true
}

// Verify implements Source: exactly one X-Goog-Channel-Token equal to the
// configured channel token, and exactly one X-Goog-Channel-ID of the form
// the source gives its channels ("offboarder-" and 32 hex digits) [push].
// The token is what authenticates: Verify has no State to look the current
// channel ids up in, and a channel being replaced and its successor both
// deliver for a while [push] ("Renew notification channels"). The id's
// form only keeps out notifications of channels another tool made to this
// URL. The token is hashed on both sides before a constant-time compare,
// and compared even when the id is wrong.
func (g *Google) Verify(r *Request) error {
	tokens := r.Header.Values(GoogleChannelTokenHeader)
	ids := r.Header.Values(GoogleChannelIDHeader)
	tokenOK := SameSecret(strings.Join(tokens, "\x00"), g.token)
	switch {
	case len(tokens) == 0:
		return fmt.Errorf("google: %w", Unauthorized("missing %s header", GoogleChannelTokenHeader))
	case len(tokens) > 1:
		return fmt.Errorf("google: %w", Unauthorized("more than one %s header", GoogleChannelTokenHeader))
	case !tokenOK:
		return fmt.Errorf("google: %w", Unauthorized("%s header does not match", GoogleChannelTokenHeader))
	case len(ids) != 1 || !googleChannelIDRE.MatchString(ids[0]):
		return fmt.Errorf("google: %w", Unauthorized("%s is not one of the channel ids this source makes", GoogleChannelIDHeader))
	}
	return nil
}
