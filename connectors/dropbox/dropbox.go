// Package dropbox is the dropbox connector: with a team-scoped token of a
// Dropbox team (Business) app, it ends every web session and unlinks every
// desktop and mobile client of a team member, through the team API's
// devices routes, and lists them again to verify that none is left.
package dropbox

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Dropbox's documentation, cited below by these names:
//
//	[teams]      https://www.dropbox.com/developers/documentation/http/teams
//	[get-info]   https://www.dropbox.com/developers/documentation/http/teams#team-members-get_info
//	             (members/get_info:2, POST /2/team/members/get_info_v2, scope members.read)
//	[list]       https://www.dropbox.com/developers/documentation/http/teams#team-members-list
//	             (members/list:2, POST /2/team/members/list_v2, scope members.read)
//	[devices]    https://www.dropbox.com/developers/documentation/http/teams#team-devices-list_member_devices
//	             (scope sessions.list)
//	[revoke]     https://www.dropbox.com/developers/documentation/http/teams#team-devices-revoke_device_session_batch
//	             (scope sessions.modify)
//	[spec]       https://github.com/dropbox/dropbox-api-spec (team.stone: the routes' arguments,
//	             results and error unions; auth.stone: AuthError, RateLimitError)
//	[errors]     https://www.dropbox.com/developers/documentation/http/documentation#error-handling
//	             (400 bad input in plain text; 401 {"error_summary","error":{".tag":
//	             "invalid_access_token"}}; 409 an endpoint-specific error
//	             {"error_summary":"…","error":{".tag":…}}; 429 with Retry-After; 5xx)
//	[rate]       https://developers.dropbox.com/dbx-performance-guide ("Rate limited
//	             responses always include a Retry-After header")
//
// Rate limits: Dropbox publishes no fixed number for the team API; a 429
// (too_many_requests, too_many_write_operations) carries Retry-After in
// seconds [rate][errors]. The shared client sits out a wait of up to
// vendorapi.MaxShortWait inside the attempt and hands a longer one back to
// the queue, which retries after it without counting a failure. A revoke
// costs four calls: lookup, listing, one batch revocation, listing again.

// Config is the settings of a dropbox connector: an access token of a
// team-scoped app (a Dropbox team, formerly Business, account) with the
// scopes members.read, sessions.list and sessions.modify [teams].
type Config struct {
	// Token is the team-scoped access token, sent as "Authorization:
	// Bearer …".
	Token vendorapi.Secret `json:"token"`
	// BaseURL is the API host; empty means https://api.dropboxapi.com. The
	// connector adds /2/team/….
	BaseURL string `json:"base_url"`
}

const defaultBaseURL = "https://api.dropboxapi.com"

func (c *Config) baseURL() string {
	if c.BaseURL == "" {
		return defaultBaseURL
	}
	return c.BaseURL
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.Token == "" {
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	} else if strings.HasPrefix(strings.ToLower(string(c.Token)), "bearer ") {
		errs = append(errs, vendorapi.FieldErr("token", `give the token without the "Bearer " prefix`))
	}
	if err := vendorapi.CheckURL(c.baseURL()); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.baseURL()); strings.Contains(u.Path+"/", "/2/") {
		errs = append(errs, vendorapi.FieldErr("base_url", "give the API host without /2, e.g. https://api.dropboxapi.com"))
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := string(c.Token)
	api, err := vendorapi.NewClient(name, c.baseURL(), d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", "Bearer "+token) },
		VendorError: readError,
		NotFound:    memberGone,
		Secrets:     []string{token},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector ends a Dropbox team member's web sessions and unlinks their
// desktop and mobile clients.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// Name returns the configured connector name.
func (d *Connector) Name() string { return d.name }

// Revoke finds the team member with the subject's email, lists their web
// sessions, desktop clients and mobile clients, revokes every one in one
// batch and lists them again: Verified when nothing is listed after,
// Acknowledged when something still is, NotFound when no member has the
// email (or the member left the team meanwhile).
//
// Desktop clients are unlinked with delete_on_unlink false, Dropbox's own
// default [spec]: the files already synced stay on the device; true would
// delete them the next time the client connects. Linked third-party apps
// and the account itself are left alone, and the detail says so.
func (d *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: d.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	id, err := d.find(ctx, email)
	if err != nil {
		return "", err
	}
	if id == "" {
		connectors.Report(ctx, "no dropbox team member has the email %s", email)
		return offboard.NotFound, nil
	}
	out, err := d.revokeMember(ctx, id)
	if vendorapi.IsKind(err, vendorapi.NotFound) {
		connectors.Report(ctx, "dropbox team member %s left the team before their sessions could be ended", id)
		return offboard.NotFound, nil
	}
	if err == nil {
		connectors.Report(ctx, "not ended: third-party apps the member linked; the account is not suspended")
	}
	return out, err
}

// find is POST /2/team/members/get_info_v2 with the email as a
// UserSelectorArg [get-info]: each item of members_info is either
// member_info (with the profile's team_member_id) or id_not_found. The
// answer's email is checked again, in any case, before it is used.
func (d *Connector) find(ctx context.Context, email string) (string, error) {
	body := map[string]any{"members": []map[string]string{{".tag": "email", "email": email}}}
	var res struct {
		MembersInfo []struct {
			Tag     string `json:".tag"`
			Profile struct {
				TeamMemberID string `json:"team_member_id"`
				Email        string `json:"email"`
			} `json:"profile"`
		} `json:"members_info"`
	}
	if _, err := d.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: "/2/team/members/get_info_v2", Body: body}, &res); err != nil {
		return "", err
	}
	for _, m := range res.MembersInfo {
		if m.Tag == "member_info" && m.Profile.TeamMemberID != "" && strings.EqualFold(m.Profile.Email, email) {
			return m.Profile.TeamMemberID, nil
		}
	}
	return "", nil
}

// devices is what POST /2/team/devices/list_member_devices answers
// [devices]: each list may be absent.
type devices struct {
	Web []struct {
		SessionID string `json:"session_id"`
	} `json:"active_web_sessions"`
	Desktop []struct {
		SessionID string `json:"session_id"`
	} `json:"desktop_client_sessions"`
	Mobile []struct {
		SessionID string `json:"session_id"`
	} `json:"mobile_client_sessions"`
}

func (v devices) count() int { return len(v.Web) + len(v.Desktop) + len(v.Mobile) }

// list is POST /2/team/devices/list_member_devices with every kind
// included [devices]. 409 member_not_found is a vendorapi.NotFound error.
func (d *Connector) list(ctx context.Context, id string) (devices, error) {
	body := map[string]any{"team_member_id": id, "include_web_sessions": true,
		"include_desktop_clients": true, "include_mobile_clients": true}
	var v devices
	_, err := d.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: "/2/team/devices/list_member_devices", Body: body}, &v)
	return v, err
}

// revokeMember lists the member's sessions, revokes them and lists again.
func (d *Connector) revokeMember(ctx context.Context, id string) (offboard.Outcome, error) {
	before, err := d.list(ctx, id)
	if err != nil {
		return "", err
	}
	if before.count() == 0 {
		connectors.Report(ctx, "dropbox team member %s had no web session, desktop client or mobile client listed; nothing to end", id)
		return offboard.Verified, nil
	}
	failed, err := d.revoke(ctx, id, before)
	if err != nil {
		return "", err
	}
	log := d.api.Logger(ctx).With().Str("connector", d.name).Str("dropbox_team_member_id", id).Logger()
	log.Info().Int("revoked", before.count()-failed).Int("refused", failed).Msg("dropbox device sessions revoked")
	connectors.Report(ctx, "dropbox team member %s: ended %s, unlinked %s (their synced files kept: delete_on_unlink false) and %s",
		id, some(len(before.Web), "web session"), some(len(before.Desktop), "desktop client"), some(len(before.Mobile), "mobile client"))

	after, err := d.list(ctx, id)
	switch {
	case vendorapi.IsKind(err, vendorapi.NotFound):
		connectors.Report(ctx, "the member has left the team since; nothing of theirs is listed")
		return offboard.Verified, nil
	case vendorapi.IsKind(err, vendorapi.Auth):
		connectors.Report(ctx, "they could not be listed again (%s)", statusText(err))
		return offboard.Acknowledged, nil
	case err != nil:
		return "", err
	case after.count() > 0:
		connectors.Report(ctx, "still listed after: %s, %s, %s",
			some(len(after.Web), "web session"), some(len(after.Desktop), "desktop client"), some(len(after.Mobile), "mobile client"))
		return offboard.Acknowledged, nil
	}
	connectors.Report(ctx, "none is listed after")
	return offboard.Verified, nil
}

// revokeArg is one RevokeDeviceSessionArg [spec]: .tag web_session,
// desktop_client (with delete_on_unlink) or mobile_client.
type revokeArg struct {
	Tag            string `json:".tag"`
	SessionID      string `json:"session_id"`
	TeamMemberID   string `json:"team_member_id"`
	DeleteOnUnlink *bool  `json:"delete_on_unlink,omitempty"`
}

// revoke is POST /2/team/devices/revoke_device_session_batch [revoke]:
// revoke_devices_status holds one {success, error_type} per argument, in
// order. A session already gone (device_session_not_found) counts as
// ended; a member_not_found is a vendorapi.NotFound error. It returns how
// many revocations Dropbox refused otherwise.
func (d *Connector) revoke(ctx context.Context, id string, v devices) (int, error) {
	keep := false // delete_on_unlink: Dropbox's default, sent explicitly
	var args []revokeArg
	for _, s := range v.Web {
		args = append(args, revokeArg{Tag: "web_session", SessionID: s.SessionID, TeamMemberID: id})
	}
	for _, s := range v.Desktop {
		args = append(args, revokeArg{Tag: "desktop_client", SessionID: s.SessionID, TeamMemberID: id, DeleteOnUnlink: &keep})
	}
	for _, s := range v.Mobile {
		args = append(args, revokeArg{Tag: "mobile_client", SessionID: s.SessionID, TeamMemberID: id})
	}
	var res struct {
		Statuses []struct {
			Success   bool `json:"success"`
			ErrorType *struct {
				Tag string `json:".tag"`
			} `json:"error_type"`
		} `json:"revoke_devices_status"`
	}
	req := vendorapi.Request{Method: http.MethodPost, Path: "/2/team/devices/revoke_device_session_batch", Body: map[string]any{"revoke_devices": args}}
	if _, err := d.api.Do(ctx, req, &res); err != nil {
		return 0, err
	}
	failed := 0
	for _, st := range res.Statuses {
		switch {
		case st.Success, st.ErrorType != nil && st.ErrorType.Tag == "device_session_not_found":
		case st.ErrorType != nil && st.ErrorType.Tag == "member_not_found":
			return 0, &vendorapi.Error{System: d.name, Kind: vendorapi.NotFound,
				Msg: "POST /2/team/devices/revoke_device_session_batch: member_not_found"}
		default:
			failed++
		}
	}
	if failed > 0 {
		connectors.Report(ctx, "dropbox refused %d of %d revocations", failed, len(args))
	}
	return failed, nil
}

// Check is the cheapest authenticated read with a scope Revoke needs:
// POST /2/team/members/list_v2 with limit 1 [list] (members.read). A
// token that is not team-scoped, expired or without the scope fails with a
// vendorapi.Auth error naming Dropbox's reason.
func (d *Connector) Check(ctx context.Context) error {
	_, err := d.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: "/2/team/members/list_v2", Body: map[string]any{"limit": 1}}, nil)
	return err
}

// some is "1 web session", "2 web sessions", "0 web sessions".
func some(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// statusText names the HTTP status of err for a detail, e.g. "status 401".
func statusText(err error) string {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Status != 0 {
		return "status " + strconv.Itoa(e.Status)
	}
	return "refused"
}
