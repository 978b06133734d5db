package sources

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

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
	// EntraDefaultBaseURL is Microsoft Graph's root; the source adds /v1.0.
	EntraDefaultBaseURL = "https://graph.microsoft.com"
	// entraTokenURLFormat is the v2.0 token endpoint of a tenant [cc-flow].
	entraTokenURLFormat = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
	// entraScope asks for the application permissions granted to the app
	// (User.Read.All) [cc-flow].
	entraScope = "https://graph.microsoft.com/.default"
	// EntraMaxNotifications bounds the items of one delivery; a larger
	// collection is malformed. Graph documents no batch size; this is far
	// above what the webhook's 1 MiB body cap lets real items reach.
	EntraMaxNotifications = 1000
	// entraMaxValidationToken bounds the validation token echoed back.
	// Graph's are opaque and short [validation].
	entraMaxValidationToken = 4096
)

// Entra is a Microsoft Graph change-notification source on users. It
// answers Graph's notificationUrl validation, authenticates every
// notification item by its clientState, and turns user changes into id-only
// events that Resolve (in the worker) turns into an email or dismisses.
// Maintain keeps its one subscription on users alive.
type Entra struct {
	name        string
	clientState [32]byte         // SHA-256 of the configured value: compared in constant time
	secret      vendorapi.Secret // the configured value: sent when a subscription is made, never logged
	stateMark   string           // identifies the client state in the stored subscription (see entraMark)
	notifyURL   string
	lifecycle   string
	api         *vendorapi.Client
	now         func() time.Time
}

var (
	_ Source     = (*Entra)(nil)
	_ Resolver   = (*Entra)(nil)
	_ Maintainer = (*Entra)(nil)
)

// EntraConfig is the settings of an entra source.
type EntraConfig struct {
	// ClientState is the secret Graph sends back with every notification
	// (16 to 128 characters) [subscr].
	ClientState vendorapi.Secret `json:"client_state"`
	// TenantID is the directory (tenant) id or its primary domain.
	TenantID string `json:"tenant_id"`
	// ClientID is the application (client) id of the app registration.
	ClientID string `json:"client_id"`
	// ClientSecret is a client secret of the app registration [cc-flow].
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// NotificationURL is this source's public https URL.
	NotificationURL string `json:"notification_url"`
	// LifecycleURL, if set, receives Graph's lifecycle notifications [lifecycle].
	LifecycleURL string `json:"lifecycle_url"`
	// BaseURL is Graph's root without the version (default
	// EntraDefaultBaseURL).
	BaseURL string `json:"base_url"`
	// TokenURL is the token endpoint (default: the tenant's v2.0 one).
	TokenURL string `json:"token_url"`
}

// Validate implements Config.
func (c *EntraConfig) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, vendorapi.FieldErr(key, format, a...)) }
	switch cs := string(c.ClientState); {
	case cs == "":
		bad("client_state", "required: a random secret of 16 to 128 characters that Graph sends back with every notification")
	case len(cs) < 16:
		bad("client_state", "too short: use at least 16 random characters")
	case len(cs) > 128:
		// The subscription's clientState holds at most 128 characters [subscr].
		bad("client_state", "longer than the 128 characters Graph keeps")
	case !PrintableASCII(cs):
		bad("client_state", "use printable ASCII characters only")
	}
	switch {
	case c.TenantID == "":
		bad("tenant_id", "required: the directory (tenant) id or its primary domain")
	case !entraTenantRE.MatchString(c.TenantID):
		bad("tenant_id", "not a tenant id (a GUID) or domain name")
	}
	if c.ClientID == "" {
		bad("client_id", "required: the application (client) id of the app registration")
	}
	if strings.TrimSpace(string(c.ClientSecret)) == "" {
		bad("client_secret", "required: a client secret of the app registration")
	}
	if err := NotificationURL(c.NotificationURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("notification_url", err))
	}
	if c.LifecycleURL != "" {
		if err := NotificationURL(c.LifecycleURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("lifecycle_url", err))
		}
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if strings.Contains(c.BaseURL, "/v1.0") || strings.Contains(c.BaseURL, "/beta") {
			bad("base_url", "give the root without the API version, e.g. %s", EntraDefaultBaseURL)
		}
	}
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	return errors.Join(errs...)
}

// Open implements Config.
func (c *EntraConfig) Open(name string, d Deps) (Source, error) {
	if c.BaseURL == "" {
		c.BaseURL = EntraDefaultBaseURL
	}
	if c.TokenURL == "" {
		c.TokenURL = fmt.Sprintf(entraTokenURLFormat, c.TenantID)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	api, err := entraClient(c, d.HTTPClient)
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", Cause(err))
	}
	return &Entra{
		name:        name,
		clientState: HashSecret(c.ClientState),
		secret:      c.ClientState,
		stateMark:   entraMark(c.ClientState),
		notifyURL:   c.NotificationURL,
		lifecycle:   c.LifecycleURL,
		api:         api,
		now:         now,
	}, nil
}

// Name implements Source.
func (e *Entra) Name() string { return e.name }

// Type implements Source.
func (e *Entra) Type() string { return "entra" }

// Handshake implements Source: a POST (or GET) with a validationToken query
// parameter is Graph validating the notificationUrl (or the
// lifecycleNotificationUrl) of a subscription being created. It is answered
// 200 text/plain with the token, URL-decoded, as its body [validation]. The
// request carries nothing secret to check; the answer reveals nothing. One
// token of 1 to 4096 printable characters without "<" or ">" is echoed (Graph
// "never sends any value containing HTML or JavaScript code"); anything
// else is a 400.
func (e *Entra) Handshake(r *Request) (*Response, bool) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, false
	}
	values, ok := r.Query["validationToken"]
	if !ok {
		return nil, false
	}
	// r.Query is url.Values: each value is URL-decoded already.
	if len(values) != 1 || values[0] == "" || len(values[0]) > entraMaxValidationToken ||
		!Printable(values[0]) || strings.ContainsAny(values[0], "<>") {
		return &Response{Status: http.StatusBadRequest, ContentType: "text/plain; charset=utf-8",
			Body: []byte("entra: bad validationToken")}, true
	}
	return &Response{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(values[0])}, true
}

// entraClientStates is what Verify reads of a delivery: each item's
// clientState, which Graph copies from the subscription [notif].
type entraClientStates struct {
	Value []struct {
		ClientState *string `json:"clientState"`
	} `json:"value"`
}

// Verify implements Source. The credential of a Graph notification is in
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
func (e *Entra) Verify(r *Request) error {
	var c entraClientStates
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return fmt.Errorf("entra: %w", Unauthorized("body is not a change notification collection"))
	}
	if len(c.Value) == 0 {
		return fmt.Errorf("entra: %w", Unauthorized("no notification to authenticate"))
	}
	ok := true
	for _, item := range c.Value { // every item is compared, whatever came before
		if item.ClientState == nil || !SameSecret(*item.ClientState, e.clientState) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("entra: %w", Unauthorized("clientState missing or wrong in at least one of %d notifications", len(c.Value)))
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
