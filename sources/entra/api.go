package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// What the entra source asks of Graph, in the worker: Resolve reads a user,
// Maintain runs the delta query on users (delta.go) and keeps the
// subscription on users alive.
const (
	// RenewEvery is how often Maintain renews the subscription; it runs
	// every reconcile_interval.
	RenewEvery = time.Hour
	// SubscriptionLifetime is the expiry Maintain asks for: the
	// documented maximum for users, 41760 minutes ("under 29 days") [subscr],
	// less an hour for clock skew (a request beyond the maximum fails).
	SubscriptionLifetime = 41760*time.Minute - time.Hour
	// entraStateKey is where Maintain keeps its subscription in State.
	entraStateKey = "subscription"
	// entraGraphTime is the form of Graph's DateTimeOffset values [webhooks].
	entraGraphTime = "2006-01-02T15:04:05.0000000Z"
)

// entraClient is the Graph client of a source: client-credentials tokens
// from the tenant's token endpoint [cc-flow], cached by vendorapi.Client.
func entraClient(c *Config, hc *http.Client) (*vendorapi.Client, error) {
	// The v2.0 endpoint takes client_id and client_secret in the form [cc-flow].
	token := vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, c.TokenURL, []string{entraScope}, nil)
	return vendorapi.NewClient("entra", c.BaseURL, hc, vendorapi.ClientOptions{
		Token:       token,
		VendorError: vendorapi.GraphError,
		Secrets:     []string{string(c.ClientSecret), string(c.ClientState)},
	})
}

// entraUser is the part of a user Resolve reads [user-get].
type entraUser struct {
	ODataType         string `json:"@odata.type"`
	ID                string `json:"id"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
	AccountEnabled    *bool  `json:"accountEnabled"`
}

// Resolve implements sources.Resolver: it reads the user of ev.IDs["entra"].
//
//   - A user whose account is disabled is offboarded, with its mail (or,
//     without one, its userPrincipalName) as the email.
//   - A user still enabled is not leaving: Offboard is false (a change of
//     another property, or an account enabled again since).
//   - A user Graph no longer has (404) is looked up among the directory's
//     deleted items: a soft-deleted user is offboarded as terminated
//     [softdelete][deleted]. One not there either (purged, or never in this
//     tenant) is a permanent error naming the id: its email cannot be
//     learned any more.
//
// Graph's answers are classified by vendorapi.Client (429 and 5xx
// retryable with Retry-After [throttling]; 401/403 permanent: the app
// lacks User.Read.All).
func (e *Source) Resolve(ctx context.Context, ev sources.Event) (sources.Resolution, error) {
	id := strings.ToLower(ev.IDs["entra"])
	if !entraGUIDRE.MatchString(id) {
		return sources.Resolution{}, &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid,
			Msg: "the event carries no entra user id to resolve"}
	}
	// [user-get]: accountEnabled is returned only when selected; 404 when
	// no user has the id.
	var u entraUser
	_, err := e.api.Do(ctx, vendorapi.Request{
		Method: http.MethodGet,
		Path:   "/v1.0/users/" + id,
		Query:  url.Values{"$select": {"id,mail,userPrincipalName,accountEnabled"}},
	}, &u)
	switch {
	case err == nil:
		if u.AccountEnabled == nil {
			return sources.Resolution{}, &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid,
				Msg: "graph did not return accountEnabled for user " + id + "; grant the app the User.Read.All application permission"}
		}
		if *u.AccountEnabled {
			return sources.Resolution{Ignored: "entra: user " + id + " is still enabled"}, nil
		}
		email, err := entraEmail(u, id, false)
		if err != nil {
			return sources.Resolution{}, err
		}
		return sources.Resolution{Email: email, Offboard: true}, nil
	case !entraNotFound(err):
		return sources.Resolution{}, err
	}
	// [deleted]: a soft-deleted user, as a directoryObject of type
	// microsoft.graph.user; 404 once it is purged.
	var d entraUser
	if _, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/v1.0/directory/deletedItems/" + id}, &d); err != nil {
		if entraNotFound(err) {
			return sources.Resolution{}, &vendorapi.Error{System: "entra", Kind: vendorapi.NotFound, Status: http.StatusNotFound,
				Msg: "user " + id + " is neither in the directory nor among its deleted items (purged, or not of this tenant), so its email cannot be learned; " +
					"if it was offboarded when it was disabled or deleted, nothing is left to do"}
		}
		return sources.Resolution{}, err
	}
	if d.ODataType != "" && !strings.EqualFold(d.ODataType, "#microsoft.graph.user") {
		return sources.Resolution{}, &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid,
			Msg: "deleted item " + id + " is a " + sources.Truncate(d.ODataType, 64) + ", not a user"}
	}
	email, err := entraEmail(d, id, true)
	if err != nil {
		return sources.Resolution{}, err
	}
	return sources.Resolution{Email: email, Offboard: true, Reason: offboard.ReasonTerminated}, nil
}

// entraEmail is the user's mail, else its userPrincipalName, normalised. A
// deleted user's userPrincipalName can carry its object id, without
// hyphens, as a prefix; it is taken off.
// https://practical365.com/restore-deleted-user-account-ps
func entraEmail(u entraUser, id string, deleted bool) (string, error) {
	if email, err := sources.NormalizeEmail(u.Mail); err == nil {
		return email, nil
	}
	upn := u.UserPrincipalName
	if deleted {
		prefix := strings.ReplaceAll(id, "-", "")
		if len(upn) > len(prefix) && strings.EqualFold(upn[:len(prefix)], prefix) {
			upn = upn[len(prefix):]
		}
	}
	email, err := sources.NormalizeEmail(upn)
	if err != nil {
		return "", &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid,
			Msg: "user " + id + " has neither a usable mail nor a usable userPrincipalName"}
	}
	return email, nil
}

func entraNotFound(err error) bool {
	var e *vendorapi.Error
	return errors.As(err, &e) && e.Kind == vendorapi.NotFound
}

// Interval implements sources.Maintainer: reconcile_interval.
func (e *Source) Interval() time.Duration { return e.interval }

// entraSubState is what Maintain keeps in State under "subscription".
type entraSubState struct {
	ID              string    `json:"id,omitempty"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
	NotificationURL string    `json:"notification_url,omitempty"`
	LifecycleURL    string    `json:"lifecycle_url,omitempty"`
	ClientStateMark string    `json:"client_state_mark,omitempty"`
	// RenewedAt is when the subscription was last made or renewed.
	RenewedAt time.Time `json:"renewed_at,omitzero"`
	// Retired are subscriptions replaced by a new one, still to delete.
	Retired []string `json:"retired,omitempty"`
}

// entraSubscription is a subscription as Graph takes and returns it [subscr].
type entraSubscription struct {
	ID                       string `json:"id,omitempty"`
	Resource                 string `json:"resource,omitempty"`
	ChangeType               string `json:"changeType,omitempty"`
	NotificationURL          string `json:"notificationUrl,omitempty"`
	LifecycleNotificationURL string `json:"lifecycleNotificationUrl,omitempty"`
	ExpirationDateTime       string `json:"expirationDateTime,omitempty"`
	ClientState              string `json:"clientState,omitempty"`
}

// Maintain implements sources.Maintainer. It runs the delta query on users
// (delta) and returns the users it shows disabled or removed as events,
// then keeps the subscription alive (subscribe). The delta's state is kept
// when the query succeeded, whatever became of the subscription: the delta
// is the safety net of exactly a subscription that cannot be made. A
// subscription error is returned beside the events, which are taken in all
// the same; a delta error leaves the delta's state where it was.
func (e *Source) Maintain(ctx context.Context, st sources.State) ([]sources.Event, error) {
	ds, err := loadDeltaState(ctx, st)
	if err != nil {
		return nil, err
	}
	events, next, derr := e.delta(ctx, ds)
	if derr == nil {
		if err := saveDeltaState(ctx, st, next); err != nil {
			return nil, err
		}
	}
	serr := e.subscribe(ctx, st)
	if derr != nil {
		return nil, errors.Join(derr, serr)
	}
	return events, serr
}

// subscribe keeps one subscription on "users" for changeType
// "updated,deleted" that posts to notification_url (and lifecycle_url)
// with the configured client state.
//
// Once every RenewEvery it renews the stored subscription to
// SubscriptionLifetime from now (PATCH). Renewing hourly rather than days before expiry costs
// one call an hour and answers every lifecycle notification the handler
// could only acknowledge: a renewal also reauthorizes the subscription
// (reauthorizationRequired), and a subscription Graph removed answers 404
// [lifecycle]. A missing or removed subscription is created (POST; Graph
// first validates notification_url through the Handshake, so the webhook
// server must be reachable). When notification_url, lifecycle_url or
// client_state changed, a new subscription is created first and the old
// one deleted after, so that no change falls in a gap; a delete that fails
// is tried again on the next run. The state is saved as soon as it changes.
func (e *Source) subscribe(ctx context.Context, st sources.State) error {
	log := zerolog.Ctx(ctx)
	s, err := loadEntraState(ctx, st)
	if err != nil {
		return err
	}
	if s.ID != "" && !e.sameConfig(s) {
		log.Info().Str("source", e.name).Str("subscription_id", s.ID).Msg("entra subscription settings changed; replacing it")
		s.Retired = append(s.Retired, s.ID)
		s.ID = ""
	}
	now := e.now().UTC()
	exp := now.Add(SubscriptionLifetime)
	// A subscription renewed within RenewEvery is left as it is.
	if s.ID != "" && now.Sub(s.RenewedAt) >= RenewEvery {
		// [webhooks] "Renew a subscription": PATCH with the new
		// expirationDateTime; 200 with the subscription. 404: Graph removed
		// it (expired, or subscriptionRemoved [lifecycle]).
		var got entraSubscription
		_, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodPatch, Path: "/v1.0/subscriptions/" + url.PathEscape(s.ID),
			Body: entraSubscription{ExpirationDateTime: exp.Format(entraGraphTime)}}, &got)
		switch {
		case err == nil:
			s.ExpiresAt, s.RenewedAt = graphTime(got.ExpirationDateTime, exp), now
		case entraNotFound(err):
			log.Warn().Str("source", e.name).Str("subscription_id", s.ID).Msg("entra subscription is gone; creating a new one")
			s.ID = ""
		default:
			return err
		}
	}
	if s.ID == "" {
		// [webhooks] "Create a subscription": POST /subscriptions; 201 with
		// the subscription. User subscriptions take updated and deleted [subscr].
		var got entraSubscription
		if _, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: "/v1.0/subscriptions", Body: entraSubscription{
			Resource:                 "users",
			ChangeType:               "updated,deleted",
			NotificationURL:          e.notifyURL,
			LifecycleNotificationURL: e.lifecycle,
			ExpirationDateTime:       exp.Format(entraGraphTime),
			ClientState:              string(e.secret),
		}}, &got); err != nil {
			if err2 := saveEntraState(ctx, st, s); err2 != nil { // keep the retired list
				return errors.Join(err, err2)
			}
			return err
		}
		if !entraGUIDRE.MatchString(got.ID) {
			return &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid, Status: http.StatusCreated,
				Msg: "POST /v1.0/subscriptions: the answer has no subscription id; check base_url"}
		}
		s.ID, s.ExpiresAt, s.RenewedAt = got.ID, graphTime(got.ExpirationDateTime, exp), now
		s.NotificationURL, s.LifecycleURL, s.ClientStateMark = e.notifyURL, e.lifecycle, e.stateMark
		log.Info().Str("source", e.name).Str("subscription_id", s.ID).Time("expires_at", s.ExpiresAt).Msg("entra subscription created")
	}
	if err := saveEntraState(ctx, st, s); err != nil {
		return err
	}
	if len(s.Retired) == 0 {
		return nil
	}
	var left []string
	for _, id := range s.Retired {
		// [webhooks] "Delete a subscription": 204; 404 means it is gone already.
		_, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodDelete, Path: "/v1.0/subscriptions/" + url.PathEscape(id)}, nil)
		if err != nil && !entraNotFound(err) {
			log.Warn().Err(err).Str("source", e.name).Str("subscription_id", id).Msg("entra: deleting a replaced subscription failed; trying again next run")
			left = append(left, id)
		}
	}
	s.Retired = left
	return saveEntraState(ctx, st, s)
}

// sameConfig reports whether the stored subscription was made with the
// current notification_url, lifecycle_url and client_state.
func (e *Source) sameConfig(s entraSubState) bool {
	return s.NotificationURL == e.notifyURL && s.LifecycleURL == e.lifecycle && s.ClientStateMark == e.stateMark
}

func loadEntraState(ctx context.Context, st sources.State) (entraSubState, error) {
	var s entraSubState
	raw, ok, err := st.Get(ctx, entraStateKey)
	if err != nil || !ok {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		// Start afresh: a new subscription is made; the lost one expires by itself.
		zerolog.Ctx(ctx).Warn().Msg("entra: stored subscription state is unreadable; starting afresh")
		return entraSubState{}, nil
	}
	return s, nil
}

func saveEntraState(ctx context.Context, st sources.State, s entraSubState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("entra: encode subscription state: %w", err)
	}
	return st.Put(ctx, entraStateKey, b)
}

// graphTime parses a DateTimeOffset Graph returned, or gives def.
func graphTime(s string, def time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return def
}
