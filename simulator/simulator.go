// Package simulator serves faithful fakes of the SaaS vendor APIs that
// offboarder's connectors call — Okta, Entra (Graph), Google (Directory),
// Auth0, Keycloak and OneLogin, one package per vendor under simulator/ —
// for the demo (`offboarder simulate`), end-to-end tests, benchmarks and
// fault tests.
//
// Each vendor is served under its own prefix (/okta/..., /entra/...) and keeps per-user
// session state. Every vendor call passes the same knobs (latency, rate limit,
// error rate, hold) and is recorded (package fake holds that machinery). A
// JSON control API under /_sim/ lets the CLI and tests in other processes
// read the record and turn the knobs.
//
// The fakes are shaped from the vendors' own documentation, never from our
// connectors: the simulator and its vendor packages import nothing of
// offboarder's outside simulator/.
package simulator

import (
	"cmp"
	"crypto"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/atlassian"
	"github.com/offboarder/offboarder/simulator/auth0"
	"github.com/offboarder/offboarder/simulator/aws"
	"github.com/offboarder/offboarder/simulator/box"
	"github.com/offboarder/offboarder/simulator/dropbox"
	"github.com/offboarder/offboarder/simulator/entra"
	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/github"
	"github.com/offboarder/offboarder/simulator/google"
	"github.com/offboarder/offboarder/simulator/keycloak"
	"github.com/offboarder/offboarder/simulator/okta"
	"github.com/offboarder/offboarder/simulator/onelogin"
	"github.com/offboarder/offboarder/simulator/pagerduty"
	"github.com/offboarder/offboarder/simulator/salesforce"
	"github.com/offboarder/offboarder/simulator/scim"
	"github.com/offboarder/offboarder/simulator/slack"
	"github.com/offboarder/offboarder/simulator/zendesk"
	"github.com/offboarder/offboarder/simulator/zoom"
)

// Limit is one vendor's rate limit: Requests calls per fixed window of Per.
type Limit = fake.Limit

// Options configure a Simulator. The zero value is a fast simulator that
// never fails on its own.
type Options struct {
	Latency   time.Duration // added to every vendor call
	ErrorRate float64       // 0..1: share of vendor calls answered 503 in the vendor's error shape
	RateLimit int           // vendor calls per second per vendor before 429s (0: unlimited), with the vendor's own rate-limit headers
	Seed      int64         // for the error-rate draw; 0: random
	OktaToken string        // the SSWS token the Okta fake accepts; "" means "sim-okta-token"
	// Limits are per-vendor rate limits by vendor name (okta, slack, …),
	// each in place of RateLimit for its vendor: Requests calls per fixed
	// window of Per, answered beyond it with the vendor's own 429 and
	// rate-limit headers, as the vendors document theirs.
	Limits map[string]Limit

	// GoogleKey is the public key of the service account whose signed
	// assertions the Google fake's token endpoint accepts; nil accepts none.
	GoogleKey *rsa.PublicKey
	// Auth0ClientID and Auth0ClientSecret are the client credentials the
	// Auth0 fake's token endpoint accepts; "" means "sim-auth0-client" and
	// "sim-auth0-secret".
	Auth0ClientID, Auth0ClientSecret string
	// OktaClientID and OktaPublicKey are the OAuth service app whose
	// private_key_jwt client assertions the Okta fake's token endpoint
	// accepts; OktaPublicKey is an *rsa.PublicKey or *ecdsa.PublicKey. ""
	// means "sim-okta-client"; a nil key accepts no assertion.
	OktaClientID  string
	OktaPublicKey crypto.PublicKey
	// OktaDPoP makes that service app require DPoP (RFC 9449), as Okta
	// does by default for new service apps: the token endpoint wants a
	// proof with its nonce and issues DPoP-bound tokens, and the API wants
	// a proof on every call that presents one (okta/dpop.go).
	OktaDPoP bool
	// EntraClientID and EntraClientSecret are the client credentials the
	// Entra fake's token endpoint accepts; "" means "sim-entra-client" and
	// "sim-entra-secret".
	EntraClientID, EntraClientSecret string
	// KeycloakRealm is the one realm the Keycloak fake serves, and
	// KeycloakClientID and KeycloakClientSecret the service-account client
	// its token endpoint accepts; "" means "demo", "sim-keycloak-client"
	// and "sim-keycloak-secret".
	KeycloakRealm, KeycloakClientID, KeycloakClientSecret string
	// OneLoginClientID and OneLoginClientSecret are the API credential pair
	// the OneLogin fake's token endpoint accepts; "" means
	// "sim-onelogin-client" and "sim-onelogin-secret".
	OneLoginClientID, OneLoginClientSecret string
	// LucidToken is the SCIM bearer token the Lucid fake (a SCIM 2.0
	// service provider under /lucid/scim/v2) accepts; "" means
	// "sim-lucid-token".
	LucidToken string
	// GitHubOrg is the organization the GitHub fake serves and GitHubToken
	// the token it accepts; "" means "sim-github-org" and
	// "sim-github-token".
	GitHubOrg, GitHubToken string
	// PagerDutyToken is the API key the PagerDuty fake accepts; "" means
	// "sim-pagerduty-token".
	PagerDutyToken string
	// SlackToken is the org admin's user token the Slack fake accepts; ""
	// means "sim-slack-token".
	SlackToken string
	// ZoomAccountID, ZoomClientID and ZoomClientSecret are the
	// Server-to-Server OAuth app the Zoom fake's token endpoint accepts; ""
	// means "sim-zoom-account", "sim-zoom-client" and "sim-zoom-secret".
	ZoomAccountID, ZoomClientID, ZoomClientSecret string
	// ZendeskEmail and ZendeskToken are the admin and API token the Zendesk
	// fake accepts as Basic "{email}/token:{token}"; "" means
	// "sim-zendesk-admin@example.com" and "sim-zendesk-token".
	ZendeskEmail, ZendeskToken string
	// DropboxToken is the team-scoped access token the Dropbox fake accepts;
	// "" means "sim-dropbox-token".
	DropboxToken string
	// AtlassianToken and AtlassianOrgID are the organization API key and
	// the organization id the Atlassian fake (its admin APIs under
	// /atlassian) accepts; "" means "sim-atlassian-token" and
	// "sim-atlassian-org".
	AtlassianToken, AtlassianOrgID string
	// AWSAccessKeyID is the access key id whose SigV4 signatures the AWS
	// IAM fake (under /aws) accepts, unverified; "" means
	// "sim-aws-access-key".
	AWSAccessKeyID string
	// SalesforceClientID and SalesforceClientSecret are the connected app
	// the Salesforce fake's token endpoint accepts (client credentials
	// flow); "" means "sim-salesforce-client" and "sim-salesforce-secret".
	SalesforceClientID, SalesforceClientSecret string
	// BoxClientID, BoxClientSecret and BoxEnterpriseID are the app and
	// enterprise the Box fake's token endpoint accepts (client credentials
	// grant for the enterprise's service account); "" means
	// "sim-box-client", "sim-box-secret" and "1000001".
	BoxClientID, BoxClientSecret, BoxEnterpriseID string
}

// Call is one vendor call as the simulator saw it. At is when it arrived;
// Path is the vendor's own path, without the simulator's vendor prefix
// (/api/v1/users, not /okta/api/v1/users); Query is the raw query string.
// Status is 0 while the call is still in flight (latency, a Hold) and 499
// when its caller went away before it was answered. User is the email of the
// user the call is about, when the simulator could tell.
type Call = fake.Call

// Simulator holds the users, knobs and call record of every vendor fake. It
// is safe for concurrent use. Create it with New.
type Simulator struct {
	srv *fake.Server

	mu   sync.Mutex
	opts Options
}

// New returns a Simulator with no users, serving every vendor fake.
func New(opts Options) *Simulator {
	s := &Simulator{}
	s.srv = fake.NewServer(fake.Knobs{}, nil, s.vendors()...)
	s.applyOptions(opts)
	s.mountControl()
	return s
}

// vendors are the vendor fakes, each reading its credentials from the
// current options. Adding a vendor is adding its line here.
func (s *Simulator) vendors() []fake.Vendor {
	return []fake.Vendor{
		okta.New(func() okta.Config {
			o := s.options()
			return okta.Config{Token: o.OktaToken, ClientID: o.OktaClientID, PublicKey: o.OktaPublicKey, DPoP: o.OktaDPoP}
		}),
		google.New(func() google.Config { return google.Config{Key: s.options().GoogleKey} }),
		auth0.New(func() auth0.Config {
			o := s.options()
			return auth0.Config{ClientID: o.Auth0ClientID, ClientSecret: o.Auth0ClientSecret}
		}),
		aws.New(func() aws.Config { return aws.Config{AccessKeyID: s.options().AWSAccessKeyID} }),
		entra.New(func() entra.Config {
			o := s.options()
			return entra.Config{ClientID: o.EntraClientID, ClientSecret: o.EntraClientSecret}
		}),
		github.New(func() github.Config { o := s.options(); return github.Config{Org: o.GitHubOrg, Token: o.GitHubToken} }),
		keycloak.New(func() keycloak.Config {
			o := s.options()
			return keycloak.Config{Realm: o.KeycloakRealm, ClientID: o.KeycloakClientID, ClientSecret: o.KeycloakClientSecret}
		}),
		scim.New(func() scim.Config { return scim.Config{Token: s.options().LucidToken} }),
		atlassian.New(func() atlassian.Config {
			o := s.options()
			return atlassian.Config{Token: o.AtlassianToken, OrgID: o.AtlassianOrgID}
		}, func() time.Time { return s.srv.Now() }),
		onelogin.New(func() onelogin.Config {
			o := s.options()
			return onelogin.Config{ClientID: o.OneLoginClientID, ClientSecret: o.OneLoginClientSecret}
		}, func() time.Time { return s.srv.Now() }),
		pagerduty.New(func() pagerduty.Config { return pagerduty.Config{Token: s.options().PagerDutyToken} }, func() time.Time { return s.srv.Now() }),
		slack.New(func() slack.Config { return slack.Config{Token: s.options().SlackToken} }, func() time.Time { return s.srv.Now() }),
		zoom.New(func() zoom.Config {
			o := s.options()
			return zoom.Config{AccountID: o.ZoomAccountID, ClientID: o.ZoomClientID, ClientSecret: o.ZoomClientSecret}
		}),
		dropbox.New(func() dropbox.Config { return dropbox.Config{Token: s.options().DropboxToken} }),
		zendesk.New(func() zendesk.Config {
			o := s.options()
			return zendesk.Config{Email: o.ZendeskEmail, Token: o.ZendeskToken}
		}),
		salesforce.New(func() salesforce.Config {
			o := s.options()
			return salesforce.Config{ClientID: o.SalesforceClientID, ClientSecret: o.SalesforceClientSecret}
		}, func() time.Time { return s.srv.Now() }),
		box.New(func() box.Config {
			o := s.options()
			return box.Config{ClientID: o.BoxClientID, ClientSecret: o.BoxClientSecret, EnterpriseID: o.BoxEnterpriseID}
		}),
	}
}

// Handler serves every vendor under its prefix (/okta/...) and the control
// API under /_sim/.
func (s *Simulator) Handler() http.Handler { return s.srv.Handler() }

// AddUser creates the user in every vendor with that many active sessions
// (and as many OAuth tokens where the vendor has them). Emails are
// case-insensitive and kept in lower case; a negative count counts as 0.
// Adding an existing user sets their sessions and tokens again and keeps
// their vendor ids.
func (s *Simulator) AddUser(email string, sessions int) { s.srv.AddUser(email, sessions) }

// Seed adds n users user0001@example.com… and the demo users
// alice@example.com, bob@example.com and carol@example.com, each with 2
// active sessions.
func (s *Simulator) Seed(n int) {
	for i := 1; i <= n; i++ {
		s.AddUser(seedEmail(i), 2)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		s.AddUser(name+"@example.com", 2)
	}
}

// Sessions returns the active sessions the user has left in that vendor, or
// -1 if the vendor or the user is unknown.
func (s *Simulator) Sessions(vendor, email string) int { return s.srv.Sessions(vendor, email) }

// Calls returns a copy of the call record, in order of arrival.
func (s *Simulator) Calls() []Call { return s.srv.Calls() }

// Reset clears the call record; users, knobs and holds stay. Calls in flight
// when Reset is called are not recorded.
func (s *Simulator) Reset() { s.srv.Reset() }

// SetOptions replaces every option, the vendors' credentials included (an
// unset one falls back to its default; Tune changes some and keeps the
// rest). Calls already past a knob keep the old value. Out-of-range values
// are clamped (a negative Latency or RateLimit counts as 0, ErrorRate is
// kept within 0..1). The error-rate draw restarts only when Seed changes.
func (s *Simulator) SetOptions(o Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyOptions(o)
}

// Tune changes some options and keeps the others: change gets a copy of the
// current ones, and what it leaves is applied as SetOptions would.
func (s *Simulator) Tune(change func(o *Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts
	change(&o)
	s.applyOptions(o)
}

// Hold makes mutating calls (any method but GET, HEAD and OPTIONS) to that
// vendor block, from now on, until release is called or the call's request
// context ends (then the call changes nothing and is recorded as 499). Holds
// on one vendor don't nest: the first release ends them all, and a release
// called again does nothing. A name that is no vendor holds nothing.
func (s *Simulator) Hold(vendor string) (release func()) { return s.srv.Hold(vendor) }

// applyOptions normalises o and makes it current; s.mu must be held (or s
// not yet shared).
func (s *Simulator) applyOptions(o Options) {
	o.OktaToken = cmp.Or(o.OktaToken, okta.DefaultToken)
	o.OktaClientID = cmp.Or(o.OktaClientID, okta.DefaultClientID)
	o.Auth0ClientID = cmp.Or(o.Auth0ClientID, auth0.DefaultClientID)
	o.Auth0ClientSecret = cmp.Or(o.Auth0ClientSecret, auth0.DefaultClientSecret)
	o.EntraClientID = cmp.Or(o.EntraClientID, entra.DefaultClientID)
	o.EntraClientSecret = cmp.Or(o.EntraClientSecret, entra.DefaultClientSecret)
	k := s.srv.SetKnobs(fake.Knobs{Latency: o.Latency, ErrorRate: o.ErrorRate, RateLimit: o.RateLimit, Seed: o.Seed, Limits: o.Limits})
	o.Latency, o.ErrorRate, o.RateLimit, o.Seed, o.Limits = k.Latency, k.ErrorRate, k.RateLimit, k.Seed, k.Limits
	s.opts = o
}

func (s *Simulator) options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

func seedEmail(i int) string { return fmt.Sprintf("user%04d@example.com", i) }
