// Package entra is the entra source: it receives Microsoft Graph change
// notifications on users, answers Graph's notificationUrl validation,
// authenticates each notification by its clientState, resolves the user in
// the worker (disabled or deleted: offboarded), and keeps its one Graph
// subscription alive (Maintain).
package entra

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// The entra source receives Microsoft Graph change notifications on users.
// Microsoft's documentation, cited below by these names:
//
//	[webhooks]   https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
//	[validation] https://learn.microsoft.com/graph/change-notifications-delivery-webhooks#notificationurl-validation
//	[lifecycle]  https://learn.microsoft.com/graph/change-notifications-lifecycle-events
//	[subscr]     https://learn.microsoft.com/graph/api/resources/subscription
//	[notif]      https://learn.microsoft.com/graph/api/resources/changenotification
//	[user-get]   https://learn.microsoft.com/graph/api/user-get
//	[deleted]    https://learn.microsoft.com/graph/api/directory-deleteditems-get
//	[softdelete] https://stackoverflow.com/questions/54205899 (a soft-deleted user is notified as "updated";
//	             the user is then read from directory/deletedItems; "deleted" comes at the hard delete)
//	[cc-flow]    https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//	[errors]     https://learn.microsoft.com/graph/errors
//	[throttling] https://learn.microsoft.com/graph/throttling

// Defaults of the entra source.
const (
	// DefaultBaseURL is Microsoft Graph's root; the source adds /v1.0.
	DefaultBaseURL = "https://graph.microsoft.com"
	// entraTokenURLFormat is the v2.0 token endpoint of a tenant [cc-flow].
	entraTokenURLFormat = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
	// entraScope asks for the application permissions granted to the app
	// (User.Read.All) [cc-flow].
	entraScope = "https://graph.microsoft.com/.default"
	// MaxNotifications bounds the items of one delivery; a larger
	// collection is malformed. Graph documents no batch size; this is far
	// above what the webhook's 1 MiB body cap lets real items reach.
	MaxNotifications = 1000
	// entraMaxValidationToken bounds the validation token echoed back.
	// Graph's are opaque and short [validation].
	entraMaxValidationToken = 4096
)

// Source is a Microsoft Graph change-notification source on users. It
// answers Graph's notificationUrl validation, authenticates every
// notification item by its clientState, and turns user changes into id-only
// events that Resolve (in the worker) turns into an email or dismisses.
// Maintain keeps its one subscription on users alive.
type Source struct {
	name        string
	clientState [32]byte         // SHA-256 of the configured value: compared in constant time
	secret      vendorapi.Secret // the configured value: sent when a subscription is made, never logged
	stateMark   string           // identifies the client state in the stored subscription (see entraMark)
	notifyURL   string
	lifecycle   string
	api         *vendorapi.Client
	interval    time.Duration // reconcile_interval: how often Maintain runs
	now         func() time.Time
}

var (
	_ sources.Source     = (*Source)(nil)
	_ sources.Resolver   = (*Source)(nil)
	_ sources.Maintainer = (*Source)(nil)
)

// Name implements sources.Source.
func (e *Source) Name() string { return e.name }

// Type implements sources.Source.
func (e *Source) Type() string { return "entra" }

// Handshake implements sources.Source: a POST (or GET) with a validationToken query
// parameter is Graph validating the notificationUrl (or the
// lifecycleNotificationUrl) of a subscription being created. It is answered
// 200 text/plain with the token, URL-decoded, as its body [validation]. The
// request carries nothing secret to check; the answer reveals nothing. One
// token of 1 to 4096 printable characters without "<" or ">" is echoed (Graph
// "never sends any value containing HTML or JavaScript code"); anything
// else is a 400.
func (e *Source) Handshake(r *sources.Request) (*sources.Response, bool) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, false
	}
	values, ok := r.Query["validationToken"]
	if !ok {
		return nil, false
	}
	// r.Query is url.Values: each value is URL-decoded already.
	if len(values) != 1 || values[0] == "" || len(values[0]) > entraMaxValidationToken ||
		!sources.Printable(values[0]) || strings.ContainsAny(values[0], "<>") {
		return &sources.Response{Status: http.StatusBadRequest, ContentType: "text/plain; charset=utf-8",
			Body: []byte("entra: bad validationToken")}, true
	}
	return &sources.Response{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(values[0])}, true
}

// entraClientStates is what Verify reads of a delivery: each item's
// clientState, which Graph copies from the subscription [notif].
type entraClientStates struct {
	Value []struct {
		ClientState *string `json:"clientState"`
	} `json:"value"`
}

// Verify implements sources.Source. The credential of a Graph notification is in
// its body: every item carries the subscription's clientState [webhooks].
// Every item's clientState must equal the configured one; an item with a
// missing or wrong value makes the whole delivery a 401 and nothing of it
// is recorded ("if there's a mismatch, don't consider the change
// notification as valid" [webhooks]): a genuine Graph delivery never mixes
// them, except briefly after client_state is changed, while the old
// subscription lives on (Maintain replaces it). Both sides are hashed
// before a constant-time compare, and every item is compared. A body that
// is not a notification collection with at least one item cannot be
// authenticated and is refused too.
func (e *Source) Verify(r *sources.Request) error {
	var c entraClientStates
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return fmt.Errorf("entra: %w", sources.Unauthorized("body is not a change notification collection"))
	}
	if len(c.Value) == 0 {
		return fmt.Errorf("entra: %w", sources.Unauthorized("no notification to authenticate"))
	}
	ok := true
	for _, item := range c.Value { // every item is compared, whatever came before
		if item.ClientState == nil || !sources.SameSecret(*item.ClientState, e.clientState) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("entra: %w", sources.Unauthorized("clientState missing or wrong in at least one of %d notifications", len(c.Value)))
	}
	return nil
}

// entraMark identifies a client state in the stored subscription state
// without keeping it: the first 8 bytes of a SHA-256 under a fixed label,
// so that Maintain sees a changed client_state and replaces the
// subscription. 64 bits of a hash of a secret of 16 or more random
// characters reveal nothing usable.
func entraMark(clientState vendorapi.Secret) string {
	sum := sha256.Sum256([]byte("offboarder entra client_state\x00" + string(clientState)))
	return fmt.Sprintf("%x", sum[:8])
}
