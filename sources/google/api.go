package google

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/oauth2/jwt"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// What the google source asks of the Admin SDK, in the worker.
const (
	// Interval is how often Maintain runs.
	Interval = time.Hour
	// ChannelLifetime is the expiry Maintain asks for a channel: the
	// maximum, 21600 seconds [push].
	ChannelLifetime = 21600 * time.Second
	// RenewBefore is how long before its expiry a channel is
	// replaced: more than one Interval, so that no run is the last chance.
	RenewBefore = 90 * time.Minute
	// PollOverlap is how far before the last poll a poll starts again:
	// admin events reach the API within minutes [lag], and the events read
	// twice count once (their ids are the same).
	PollOverlap = time.Hour
	// googleMaxPages bounds the pages one poll reads per event name.
	googleMaxPages = 20
	googleStateKey = "channels"
	googleReports  = "/admin/reports/v1/activity/users/all/applications/admin"
)

// googleClient is the Admin SDK client of a source: an access token for a
// JWT assertion signed with the service account's key, acting as
// admin_email, for the audit read scope [sa].
func googleClient(c *Config, k vendorapi.GoogleServiceAccount, hc *http.Client) (*vendorapi.Client, error) {
	jc := &jwt.Config{
		Email:        k.ClientEmail,
		PrivateKey:   []byte(k.PrivateKey),
		PrivateKeyID: k.PrivateKeyID,
		Subject:      c.AdminEmail,
		Scopes:       []string{googleReportsScope},
		TokenURL:     c.TokenURL,
	}
	return vendorapi.NewClient("google", c.BaseURL, hc, vendorapi.ClientOptions{
		Token:       vendorapi.GoogleToken(jc),
		VendorError: vendorapi.GoogleError,
		RateLimited: vendorapi.GoogleRateLimited,
		Secrets:     []string{k.PrivateKey, string(c.Credentials), string(c.ChannelToken)},
	})
}

// Interval implements sources.Maintainer: Maintain runs every hour.
func (g *Source) Interval() time.Duration { return Interval }

// googleState is what Maintain keeps in State under "channels".
type googleState struct {
	Channels []googleChannelState `json:"channels,omitempty"`
	// Retired are channels replaced by a new one, still to stop.
	Retired     []googleChannelState `json:"retired,omitempty"`
	PolledUntil time.Time            `json:"polled_until,omitzero"`
}

type googleChannelState struct {
	ID         string    `json:"id"`
	ResourceID string    `json:"resource_id"`
	Event      string    `json:"event"`
	Address    string    `json:"address"`
	TokenMark  string    `json:"token_mark"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// googleChannel is a notification channel as Google takes and returns it
// [watch][stop]. expiration is a Unix time in milliseconds.
type googleChannel struct {
	ID         string      `json:"id,omitempty"`
	ResourceID string      `json:"resourceId,omitempty"`
	Type       string      `json:"type,omitempty"`
	Address    string      `json:"address,omitempty"`
	Token      string      `json:"token,omitempty"`
	Expiration googleInt64 `json:"expiration,omitempty"`
	Payload    bool        `json:"payload,omitempty"`
}

// googleActivities is an activities.list answer [list].
type googleActivities struct {
	Items         []googleActivity `json:"items"`
	NextPageToken string           `json:"nextPageToken"`
}

// Maintain implements sources.Maintainer. It keeps one channel per watched event
// name (activities.watch filtered by eventName [watch]) posting to
// notification_url with the channel token: a channel missing, or expiring
// within RenewBefore, is replaced by a new one (there is no renewal
// [push]); the old one is stopped after the new one exists, so the two
// overlap rather than leave a gap. Channels of event names no longer
// watched, or made with another URL or token, are stopped. A stop that
// fails is tried again next run, until the channel has expired.
//
// Then it polls the activities of each watched event name since the last
// poll, less PollOverlap (an hour back on the first run), and
// returns their events: "notifications are not 100% reliable" [push], and
// the ids the poll makes equal the pushes', so each counts once. The poll
// cursor moves only when every poll succeeded.
//
// A channel that cannot be made (Google refusing the address, a rate
// limit) does not stop the poll, which is the safety net for exactly that:
// the failure is logged as an error, the old channel (if any) is kept, and
// the next run tries again. Maintain fails when the poll fails; its error
// then carries the watch failures too.
func (g *Source) Maintain(ctx context.Context, st sources.State) ([]sources.Event, error) {
	s, err := loadGoogleState(ctx, st)
	if err != nil {
		return nil, err
	}
	now := g.now().UTC()
	names := slices.Sorted(maps.Keys(g.events))
	// Keep the live channels of this config; retire the rest.
	byEvent := map[string]googleChannelState{}
	for _, ch := range s.Channels {
		_, watched := g.events[ch.Event]
		switch {
		case !ch.ExpiresAt.After(now): // expired: nothing to stop
		case watched && ch.Address == g.notifyURL && ch.TokenMark == g.tokenMark && byEvent[ch.Event].ID == "":
			byEvent[ch.Event] = ch
		default:
			s.Retired = append(s.Retired, ch)
		}
	}
	next := make([]googleChannelState, 0, len(names))
	var watchErr error
	for _, name := range names {
		old := byEvent[name]
		if old.ID != "" && old.ExpiresAt.Sub(now) > RenewBefore {
			next = append(next, old)
			continue
		}
		ch, err := g.watch(ctx, name, now)
		if err != nil {
			// The poll below is the safety net of a push that cannot be
			// set up: it runs all the same.
			zerolog.Ctx(ctx).Error().Err(err).Str("source", g.name).Str("event", name).
				Msg("google: cannot create a notification channel; until it can be, offboardings are found by the hourly poll only")
			watchErr = errors.Join(watchErr, err)
			if old.ID != "" {
				next = append(next, old)
			}
			continue
		}
		next = append(next, ch)
		if old.ID != "" {
			s.Retired = append(s.Retired, old)
		}
	}
	s.Channels = next
	if err := saveGoogleState(ctx, st, s); err != nil {
		return nil, err
	}
	s.Retired = g.stopRetired(ctx, s.Retired, now)
	if err := saveGoogleState(ctx, st, s); err != nil {
		return nil, err
	}
	events, err := g.poll(ctx, s.PolledUntil, now, names)
	if err != nil {
		if watchErr != nil {
			err = errors.Join(err, watchErr)
		}
		return nil, err
	}
	s.PolledUntil = now
	return events, saveGoogleState(ctx, st, s)
}

// watch makes a channel for the admin activities named event.
func (g *Source) watch(ctx context.Context, event string, now time.Time) (googleChannelState, error) {
	id := g.newID()
	want := now.Add(ChannelLifetime)
	// [watch]: POST …/activity/users/all/applications/admin/watch with a
	// Channel; 200 with the Channel, its resourceId and its expiration
	// (Google may shorten it) [push].
	var got googleChannel
	_, err := g.api.Do(ctx, vendorapi.Request{
		Method: http.MethodPost,
		Path:   googleReports + "/watch",
		Query:  url.Values{"eventName": {event}},
		Body: googleChannel{ID: id, Type: "web_hook", Address: g.notifyURL, Token: string(g.secret),
			Expiration: googleInt64(strconv.FormatInt(want.UnixMilli(), 10)), Payload: true},
	}, &got)
	if err != nil {
		return googleChannelState{}, err
	}
	if got.ID != id || got.ResourceID == "" {
		return googleChannelState{}, &vendorapi.Error{System: "google", Kind: vendorapi.Invalid, Status: http.StatusOK,
			Msg: "POST " + googleReports + "/watch: the answer is not the channel asked for; check base_url"}
	}
	expires := want
	if ms, err := strconv.ParseInt(string(got.Expiration), 10, 64); err == nil && ms > 0 {
		expires = time.UnixMilli(ms).UTC()
	}
	zerolog.Ctx(ctx).Info().Str("source", g.name).Str("channel_id", id).Str("event", event).Time("expires_at", expires).
		Msg("google notification channel created")
	return googleChannelState{ID: id, ResourceID: got.ResourceID, Event: event, Address: g.notifyURL, TokenMark: g.tokenMark, ExpiresAt: expires}, nil
}

// stopRetired stops each retired channel and returns those still to stop:
// the ones whose stop failed and that have not expired yet.
func (g *Source) stopRetired(ctx context.Context, retired []googleChannelState, now time.Time) []googleChannelState {
	var left []googleChannelState
	for _, ch := range retired {
		if !ch.ExpiresAt.After(now) {
			continue
		}
		// [stop]: POST with the channel's id and resourceId; an empty answer.
		// 404: the channel is gone already.
		_, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: "/admin/reports_v1/channels/stop",
			Body: googleChannel{ID: ch.ID, ResourceID: ch.ResourceID}}, nil)
		var e *vendorapi.Error
		if err != nil && !(errors.As(err, &e) && e.Kind == vendorapi.NotFound) {
			zerolog.Ctx(ctx).Warn().Err(err).Str("source", g.name).Str("channel_id", ch.ID).
				Msg("google: stopping a replaced channel failed; trying again next run")
			left = append(left, ch)
		}
	}
	return left
}

// poll lists the activities of each event name in names since the last
// poll (less the overlap) and returns their events.
func (g *Source) poll(ctx context.Context, last, now time.Time, names []string) ([]sources.Event, error) {
	from := now.Add(-PollOverlap)
	if !last.IsZero() && last.Add(-PollOverlap).Before(from) {
		from = last.Add(-PollOverlap)
	}
	var (
		out     []sources.Event
		seen    = map[string]bool{}
		ignored = map[string]int{}
		skipped []string
	)
	for _, name := range names {
		q := url.Values{"eventName": {name}, "startTime": {from.Format(time.RFC3339)}, "maxResults": {"1000"}}
		for page := 0; page < googleMaxPages; page++ {
			// [list]: GET …/activity/users/all/applications/admin with
			// eventName and startTime; pages by nextPageToken.
			var got googleActivities
			if _, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: googleReports, Query: q}, &got); err != nil {
				return nil, err
			}
			for _, a := range got.Items {
				g.activityEvents(a, seen, ignored, &skipped, &out)
			}
			if got.NextPageToken == "" {
				break
			}
			if page == googleMaxPages-1 {
				zerolog.Ctx(ctx).Warn().Str("source", g.name).Str("event", name).Int("pages", googleMaxPages).
					Msg("google: poll stopped at its page bound; the rest of this window is not read")
				break
			}
			q.Set("pageToken", got.NextPageToken)
		}
	}
	if len(skipped) > 0 {
		zerolog.Ctx(ctx).Warn().Str("source", g.name).Str("skipped", sources.FirstFew(skipped)).Msg("google: poll found activities it cannot use")
	}
	return out, nil
}

func loadGoogleState(ctx context.Context, st sources.State) (googleState, error) {
	var s googleState
	raw, ok, err := st.Get(ctx, googleStateKey)
	if err != nil || !ok {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		// Start afresh: new channels are made; the lost ones expire within hours.
		zerolog.Ctx(ctx).Warn().Msg("google: stored channel state is unreadable; starting afresh")
		return googleState{}, nil
	}
	return s, nil
}

func saveGoogleState(ctx context.Context, st sources.State, s googleState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return &vendorapi.Error{System: "google", Kind: vendorapi.Invalid, Msg: "encode channel state", Err: err}
	}
	return st.Put(ctx, googleStateKey, b)
}
