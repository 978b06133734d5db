// Package google is the google source: it receives Admin SDK Reports API
// push notifications for admin activities (a user suspended or deleted),
// authenticates each by its channel token, and keeps one channel per event
// name alive while polling the activities, so that a push Google dropped is
// still found (Maintain).
package google

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
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
	ChannelIDHeader     = "X-Goog-Channel-ID"
	ChannelTokenHeader  = "X-Goog-Channel-Token"
	ResourceStateHeader = "X-Goog-Resource-State"
)

// Defaults of the google source.
const (
	// DefaultBaseURL is the Admin SDK's root; the source adds
	// /admin/reports/v1 and /admin/reports_v1.
	DefaultBaseURL        = "https://admin.googleapis.com"
	googleSourceTokenURL  = "https://oauth2.googleapis.com/token"
	googleReportsScope    = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
	googleChannelIDPrefix = "offboarder-"
	// MaxEvents bounds the events of one activity; a larger one is
	// malformed.
	MaxEvents = 1000
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

// Source is an Admin SDK Reports API push source for admin activities. It
// acknowledges channel sync messages, authenticates every notification by
// its channel token, and turns the suspensions and deletions in an
// activity into events. Maintain keeps one channel per event name alive
// and polls the activities, so that a push Google dropped is still found.
type Source struct {
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
	_ sources.Source     = (*Source)(nil)
	_ sources.Maintainer = (*Source)(nil)
)

// Name implements sources.Source.
func (g *Source) Name() string { return g.name }

// Type implements sources.Source.
func (g *Source) Type() string { return "google" }

// Handshake implements sources.Source: a POST with X-Goog-Resource-State "sync" is
// the message Google sends when a channel starts [push]. It carries the
// channel's token like every notification, so it is authenticated first
// (a 401 otherwise), then acknowledged with 200 and nothing recorded. Any
// other request is not a handshake.
func (g *Source) Handshake(r *sources.Request) (*sources.Response, bool) {
	if r.Method != http.MethodPost || r.Header.Get(ResourceStateHeader) != "sync" {
		return nil, false
	}
	if err := g.Verify(r); err != nil {
		return sources.JSONResponse(http.StatusUnauthorized, map[string]string{"error": "invalid or missing channel token"}), true
	}
	return sources.JSONResponse(http.StatusOK, map[string]string{"status": "ignored", "reason": "google: channel sync message"}), true
}

// Verify implements sources.Source: exactly one X-Goog-Channel-Token equal to the
// configured channel token, and exactly one X-Goog-Channel-ID of the form
// the source gives its channels ("offboarder-" and 32 hex digits) [push].
// The token is what authenticates: Verify has no State to look the current
// channel ids up in, and a channel being replaced and its successor both
// deliver for a while [push] ("Renew notification channels"). The id's
// form only keeps out notifications of channels another tool made to this
// URL. The token is hashed on both sides before a constant-time compare,
// and compared even when the id is wrong.
func (g *Source) Verify(r *sources.Request) error {
	tokens := r.Header.Values(ChannelTokenHeader)
	ids := r.Header.Values(ChannelIDHeader)
	tokenOK := sources.SameSecret(strings.Join(tokens, "\x00"), g.token)
	switch {
	case len(tokens) == 0:
		return fmt.Errorf("google: %w", sources.Unauthorized("missing %s header", ChannelTokenHeader))
	case len(tokens) > 1:
		return fmt.Errorf("google: %w", sources.Unauthorized("more than one %s header", ChannelTokenHeader))
	case !tokenOK:
		return fmt.Errorf("google: %w", sources.Unauthorized("%s header does not match", ChannelTokenHeader))
	case len(ids) != 1 || !googleChannelIDRE.MatchString(ids[0]):
		return fmt.Errorf("google: %w", sources.Unauthorized("%s is not one of the channel ids this source makes", ChannelIDHeader))
	}
	return nil
}
