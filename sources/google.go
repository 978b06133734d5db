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
	"sort"
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
	token     [32]byte // SHA-256 of the channel token: compared in constant time
	secret    string   // the channel token: sent when a channel is made, never logged
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

type googleConfig struct {
	ChannelToken    string         `json:"channel_token"`
	Credentials     string         `json:"credentials"`
	AdminEmail      string         `json:"admin_email"`
	NotificationURL string         `json:"notification_url"`
	BaseURL         string         `json:"base_url"`
	TokenURL        string         `json:"token_url"`
	Events          map[string]any `json:"events"` // values checked one by one, to name the key
}

func newGoogle(s Spec, path string) (Source, error) {
	var c googleConfig
	if err := decodeSettings(s, path, &c); err != nil {
		return nil, err
	}
	var errs senderErrors
	switch {
	case c.ChannelToken == "":
		errs.add(path, "channel_token", "required: a random secret of 16 to 256 characters that Google sends back with every notification")
	case len(c.ChannelToken) < 16:
		errs.add(path, "channel_token", "too short: use at least 16 random characters")
	case len(c.ChannelToken) > 256:
		// A channel token holds at most 256 characters [push].
		errs.add(path, "channel_token", "longer than the 256 characters Google keeps")
	case !printableASCII(c.ChannelToken):
		// It comes back in a header: spaces and controls would not survive.
		errs.add(path, "channel_token", "use printable ASCII characters without spaces only")
	}
	key, err := googleParseKey(c.Credentials)
	if err != nil {
		errs.add(path, "credentials", "%s", err)
	}
	if c.AdminEmail == "" {
		errs.add(path, "admin_email", "required: the Workspace admin the service account acts as")
	} else if a, err := mail.ParseAddress(c.AdminEmail); err != nil || a.Address != c.AdminEmail {
		errs.add(path, "admin_email", "must be a bare address like admin@example.com")
	}
	if err := notificationURL(c.NotificationURL); err != nil {
		errs.add(path, "notification_url", "%s", err)
	}
	if c.BaseURL == "" {
		c.BaseURL = GoogleDefaultBaseURL
	} else if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs.add(path, "base_url", "%s", err)
	} else if strings.Contains(c.BaseURL, "/admin/") {
		errs.add(path, "base_url", "give the root without /admin/reports/v1, e.g. %s", GoogleDefaultBaseURL)
	}
	switch {
	case c.TokenURL != "":
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs.add(path, "token_url", "%s", err)
		}
	case key.TokenURI != "":
		if err := vendorapi.CheckURL(key.TokenURI); err != nil {
			errs.add(path, "credentials", "the json key's token_uri: %s", err)
		}
		c.TokenURL = key.TokenURI
	default:
		c.TokenURL = googleSourceTokenURL
	}
	events := map[string]offboard.Reason{}
	for name, r := range googleDefaultEvents {
		events[name] = offboard.Reason(r)
	}
	names := make([]string, 0, len(c.Events))
	for name := range c.Events {
		names = append(names, name)
	}
	sort.Strings(names) // a stable order of errors
	for _, name := range names {
		r, _ := c.Events[name].(string)
		switch {
		case !googleEventNameRE.MatchString(name):
			errs.add(path, fmt.Sprintf("events[%q]", truncate(name, 64)), "not an admin activity event name such as SUSPEND_USER")
		case r != "" && !offboard.Reason(r).Valid():
			errs.add(path, fmt.Sprintf("events[%q]", name), "want one of terminated, suspended, deactivated, security, manual, or \"\" to drop a default")
		case r == "":
			delete(events, name)
		default:
			events[name] = offboard.Reason(r)
		}
	}
	if len(events) == 0 && len(names) > 0 {
		errs.add(path, "events", "no event name is left to watch")
	}
	if err := errs.join(); err != nil {
		return nil, err
	}
	g := &Google{
		name:      s.Name,
		token:     secretHash(c.ChannelToken),
		secret:    c.ChannelToken,
		tokenMark: googleMark(c.ChannelToken),
		notifyURL: c.NotificationURL,
		events:    events,
		now:       time.Now,
		newID:     googleChannelID,
	}
	if g.api, err = googleClient(c, key); err != nil {
		return nil, fmt.Errorf("%s.base_url: %w", path, err)
	}
	return g, nil
}

// googleParseKey parses a service account's JSON key [sa]; its errors never
// echo it.
func googleParseKey(raw string) (vendorapi.GoogleServiceAccount, error) {
	if raw == "" {
		return vendorapi.GoogleServiceAccount{}, errors.New("required: the service account's JSON key (credentials or credentials_file)")
	}
	return vendorapi.ParseGoogleServiceAccount(raw)
}

// googleChannelID makes a new channel id: the prefix and 128 random bits.
func googleChannelID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return googleChannelIDPrefix + hex.EncodeToString(b[:])
}

// googleMark identifies a channel token in the stored channel state without
// keeping it (see entraMark).
func googleMark(token string) string {
	sum := sha256.Sum256([]byte("offboarder google channel_token\x00" + token))
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
		return jsonResponse(http.StatusUnauthorized, map[string]string{"error": "invalid or missing channel token"}), true
	}
	return jsonResponse(http.StatusOK, map[string]string{"status": "ignored", "reason": "google: channel sync message"}), true
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
	tokenOK := sameSecret(strings.Join(tokens, "\x00"), g.token)
	switch {
	case len(tokens) == 0:
		return fmt.Errorf("google: %w", unauthorized("missing %s header", GoogleChannelTokenHeader))
	case len(tokens) > 1:
		return fmt.Errorf("google: %w", unauthorized("more than one %s header", GoogleChannelTokenHeader))
	case !tokenOK:
		return fmt.Errorf("google: %w", unauthorized("%s header does not match", GoogleChannelTokenHeader))
	case len(ids) != 1 || !googleChannelIDRE.MatchString(ids[0]):
		return fmt.Errorf("google: %w", unauthorized("%s is not one of the channel ids this source makes", GoogleChannelIDHeader))
	}
	return nil
}
