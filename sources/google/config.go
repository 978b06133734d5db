package google

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// Config is the settings of a google source.
type Config struct {
	// ChannelToken is the secret Google sends back with every notification
	// (16 to 256 printable ASCII characters) [push].
	ChannelToken vendorapi.Secret `json:"channel_token"`
	// Credentials is the service account's JSON key [sa].
	Credentials vendorapi.Secret `json:"credentials"`
	// AdminEmail is the Workspace admin the service account acts as.
	AdminEmail string `json:"admin_email"`
	// NotificationURL is this source's public https URL.
	NotificationURL string `json:"notification_url"`
	// BaseURL is the Admin SDK's root (default DefaultBaseURL).
	BaseURL string `json:"base_url"`
	// TokenURL is the token endpoint (default: the key's token_uri, else
	// Google's).
	TokenURL string `json:"token_url"`
	// Events adds admin activity event names to the defaults, maps them to
	// another reason, or drops a default with ""; values are checked one by
	// one, to name the key.
	Events map[string]any `json:"events"`
}

// Validate implements sources.Config.
func (c *Config) Validate() error {
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
	case !sources.PrintableASCII(t):
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
	if err := sources.NotificationURL(c.NotificationURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("notification_url", err))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if strings.Contains(c.BaseURL, "/admin/") {
			bad("base_url", "give the root without /admin/reports/v1, e.g. %s", DefaultBaseURL)
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
func (c *Config) events() (map[string]offboard.Reason, []error) {
	return sources.EventReasons(googleDefaultEvents, c.Events, googleEventNameRE.MatchString,
		"not an admin activity event name such as SUSPEND_USER", true)
}

// Open implements sources.Config.
func (c *Config) Open(name string, d sources.Deps) (sources.Source, error) {
	key, err := googleParseKey(c.Credentials)
	if err != nil {
		return nil, vendorapi.KeyErr("credentials", err)
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	switch {
	case c.TokenURL != "":
	case key.TokenURI != "":
		c.TokenURL = key.TokenURI
	default:
		c.TokenURL = googleSourceTokenURL
	}
	events, _ := c.events() // checked by Validate
	api, err := googleClient(c, key, d.HTTPClient)
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", err)
	}
	return &Source{
		name:      name,
		token:     sources.HashSecret(c.ChannelToken),
		secret:    c.ChannelToken,
		tokenMark: googleMark(c.ChannelToken),
		notifyURL: c.NotificationURL,
		events:    events,
		api:       api,
		now:       d.Now,
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
