package dropbox

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// decode reads an RPC call's JSON argument into v. A call without
// Content-Type application/json, or whose body is not the argument, is 400
// bad input in plain text, as Dropbox answers it [error-handling]; it
// reports false then.
func decode(w http.ResponseWriter, r *http.Request, route string, v any) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		plain(w, http.StatusBadRequest, `Error in call to API function "`+route+`": Bad HTTP "Content-Type" header: "`+r.Header.Get("Content-Type")+`".  Expecting one of "application/json", "application/json; charset=utf-8", "text/plain; charset=dropbox-cors-hack".`)
		return false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		plain(w, http.StatusBadRequest, `Error in call to API function "`+route+`": request body: could not decode input as JSON`)
		return false
	}
	return true
}

// getInfo answers members/get_info:2: one MembersGetInfoItemV2 per
// UserSelectorArg, in order: member_info (profile and roles) for a member
// found by email, team_member_id or external_id, else id_not_found with
// the value asked for.
// https://www.dropbox.com/developers/documentation/http/teams#team-members-get_info
func (d *dropbox) getInfo(w http.ResponseWriter, r *http.Request) {
	var arg struct {
		Members []struct {
			Tag          string `json:".tag"`
			Email        string `json:"email"`
			TeamMemberID string `json:"team_member_id"`
			ExternalID   string `json:"external_id"`
		} `json:"members"`
	}
	if !decode(w, r, "team/members/get_info:2", &arg) {
		return
	}
	out := []map[string]any{}
	d.mu.Lock()
	for _, sel := range arg.Members {
		var m *member
		value := sel.Email
		switch sel.Tag {
		case "email":
			m = d.members.ByEmail(fake.NormalEmail(sel.Email))
		case "team_member_id":
			m, value = d.members.ByID(sel.TeamMemberID), sel.TeamMemberID
		default:
			value = sel.ExternalID
		}
		if m == nil {
			out = append(out, map[string]any{".tag": "id_not_found", "id_not_found": value})
			continue
		}
		out = append(out, map[string]any{".tag": "member_info", "profile": d.profile(m), "roles": []any{}})
	}
	d.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, map[string]any{"members_info": out})
}

// list answers members/list:2: the first limit members (1 to 1000, 1000 by
// default), with has_more and a cursor.
// https://www.dropbox.com/developers/documentation/http/teams#team-members-list
func (d *dropbox) list(w http.ResponseWriter, r *http.Request) {
	arg := struct {
		Limit int `json:"limit"`
	}{Limit: 1000}
	if !decode(w, r, "team/members/list:2", &arg) {
		return
	}
	if arg.Limit < 1 || arg.Limit > 1000 {
		plain(w, http.StatusBadRequest, `Error in call to API function "team/members/list:2": request body: limit: value out of range`)
		return
	}
	out := []map[string]any{}
	d.mu.Lock()
	ids := d.members.IDs()
	for _, id := range ids[:min(arg.Limit, len(ids))] {
		out = append(out, map[string]any{"profile": d.profile(d.members.ByID(id)), "roles": []any{}})
	}
	d.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, map[string]any{"members": out, "cursor": dropboxID("cursor"), "has_more": arg.Limit < len(ids)})
}

// listDevices answers devices/list_member_devices: the member's web
// sessions, desktop clients and mobile clients, each kind only when its
// include_* is true (the default); an unknown member is 409
// member_not_found.
// https://www.dropbox.com/developers/documentation/http/teams#team-devices-list_member_devices
func (d *dropbox) listDevices(w http.ResponseWriter, r *http.Request) {
	arg := struct { // a field the call leaves out keeps its default, true
		TeamMemberID string `json:"team_member_id"`
		Web          bool   `json:"include_web_sessions"`
		Desktop      bool   `json:"include_desktop_clients"`
		Mobile       bool   `json:"include_mobile_clients"`
	}{Web: true, Desktop: true, Mobile: true}
	if !decode(w, r, "team/devices/list_member_devices", &arg) {
		return
	}
	web, desktop, mobile := []map[string]any{}, []map[string]any{}, []map[string]any{}
	d.mu.Lock()
	m := d.members.ByID(arg.TeamMemberID)
	if m != nil {
		for _, s := range m.sessions {
			v := map[string]any{"session_id": s.id, "ip_address": "192.0.2.10", "country": "United States",
				"created": s.created.Format(time.RFC3339), "updated": s.created.Format(time.RFC3339)}
			switch {
			case s.kind == webSession && arg.Web:
				v["user_agent"], v["os"], v["browser"] = "Mozilla/5.0 (Macintosh)", "Mac OS X", "Chrome"
				web = append(web, v)
			case s.kind == desktopClient && arg.Desktop:
				v["host_name"], v["client_type"], v["client_version"] = "sim-laptop", map[string]string{".tag": "mac"}, "3.9.19"
				v["platform"], v["is_delete_on_unlink_supported"] = "Mac OS X 10.10.3", true
				desktop = append(desktop, v)
			case s.kind == mobileClient && arg.Mobile:
				v["device_name"], v["client_type"], v["client_version"] = "iPhone", map[string]string{".tag": "iphone"}, "3.9.5"
				mobile = append(mobile, v)
			}
		}
	}
	d.mu.Unlock()
	if m == nil {
		conflict(w, "member_not_found")
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"active_web_sessions": web, "desktop_client_sessions": desktop, "mobile_client_sessions": mobile})
}

// revokeArg is one RevokeDeviceSessionArg: its .tag says the kind of
// session.
type revokeArg struct {
	Tag            string `json:".tag"`
	SessionID      string `json:"session_id"`
	TeamMemberID   string `json:"team_member_id"`
	DeleteOnUnlink bool   `json:"delete_on_unlink"`
}

// revoke ends one session, d.mu held, and answers "" or the
// RevokeDeviceSessionError tag: member_not_found, or
// device_session_not_found for a session the member does not have under
// that tag.
func (d *dropbox) revoke(a revokeArg) string {
	m := d.members.ByID(a.TeamMemberID)
	if m == nil {
		return "member_not_found"
	}
	for i, s := range m.sessions {
		if s.id == a.SessionID && s.kind == a.Tag {
			m.sessions = append(m.sessions[:i], m.sessions[i+1:]...)
			return ""
		}
	}
	return "device_session_not_found"
}

// revokeOne answers devices/revoke_device_session: null on success, 409
// with the RevokeDeviceSessionError otherwise. A tag other than
// web_session, desktop_client or mobile_client is bad input.
// https://www.dropbox.com/developers/documentation/http/teams#team-devices-revoke_device_session
func (d *dropbox) revokeOne(w http.ResponseWriter, r *http.Request) {
	var a revokeArg
	if !decode(w, r, "team/devices/revoke_device_session", &a) {
		return
	}
	if !knownTag(a.Tag) {
		plain(w, http.StatusBadRequest, `Error in call to API function "team/devices/revoke_device_session": request body: unknown tag "`+a.Tag+`"`)
		return
	}
	d.mu.Lock()
	tag := d.revoke(a)
	d.mu.Unlock()
	if tag != "" {
		conflict(w, tag)
		return
	}
	fake.WriteJSON(w, http.StatusOK, nil)
}

// revokeBatch answers devices/revoke_device_session_batch: one
// RevokeDeviceSessionStatus per argument, in order ({"success":true}, or
// false with error_type).
// https://www.dropbox.com/developers/documentation/http/teams#team-devices-revoke_device_session_batch
func (d *dropbox) revokeBatch(w http.ResponseWriter, r *http.Request) {
	var arg struct {
		Revoke []revokeArg `json:"revoke_devices"`
	}
	if !decode(w, r, "team/devices/revoke_device_session_batch", &arg) {
		return
	}
	for _, a := range arg.Revoke {
		if !knownTag(a.Tag) {
			plain(w, http.StatusBadRequest, `Error in call to API function "team/devices/revoke_device_session_batch": request body: revoke_devices: unknown tag "`+a.Tag+`"`)
			return
		}
	}
	out := []map[string]any{}
	d.mu.Lock()
	for _, a := range arg.Revoke {
		if tag := d.revoke(a); tag != "" {
			out = append(out, map[string]any{"success": false, "error_type": map[string]string{".tag": tag}})
		} else {
			out = append(out, map[string]any{"success": true})
		}
	}
	d.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, map[string]any{"revoke_devices_status": out})
}

func knownTag(tag string) bool {
	return tag == webSession || tag == desktopClient || tag == mobileClient
}

// profile renders m as a TeamMemberProfile; d.mu must be held.
// https://github.com/dropbox/dropbox-api-spec (team.stone, TeamMemberProfile)
func (d *dropbox) profile(m *member) map[string]any {
	first, last := fake.Names(m.email)
	return map[string]any{"team_member_id": m.id, "account_id": m.account, "email": m.email, "email_verified": true,
		"status": map[string]string{".tag": "active"}, "membership_type": map[string]string{".tag": "full"},
		"name": map[string]string{"given_name": first, "surname": last, "familiar_name": first,
			"display_name": first + " " + last, "abbreviated_name": strings.ToUpper(first[:1] + last[:1])},
		"joined_on": m.joined.Format(time.RFC3339), "groups": []string{}, "member_folder_id": "20", "root_folder_id": "30"}
}
