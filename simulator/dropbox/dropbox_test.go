package dropbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/simulator/fake"
)

type apiError struct {
	Summary string `json:"error_summary"`
	Error   struct {
		Tag    string `json:".tag"`
		Reason struct {
			Tag string `json:".tag"`
		} `json:"reason"`
	} `json:"error"`
}

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

// memberID looks email up as the connector does and returns its
// team_member_id, or "" for id_not_found.
func (f *fixture) memberID(t *testing.T, email string) string {
	t.Helper()
	var res struct {
		MembersInfo []struct {
			Tag        string `json:".tag"`
			IDNotFound string `json:"id_not_found"`
			Profile    struct {
				TeamMemberID string            `json:"team_member_id"`
				Email        string            `json:"email"`
				Status       map[string]string `json:"status"`
			} `json:"profile"`
		} `json:"members_info"`
	}
	resp, body := f.rpc(t, "team/members/get_info_v2", bearer, `{"members":[{".tag":"email","email":"`+email+`"}]}`, &res)
	if resp.StatusCode != 200 || len(res.MembersInfo) != 1 {
		t.Fatalf("get_info_v2 = %d %s", resp.StatusCode, body)
	}
	m := res.MembersInfo[0]
	if m.Tag == "id_not_found" {
		if m.IDNotFound != email {
			t.Errorf("id_not_found = %q, want %q", m.IDNotFound, email)
		}
		return ""
	}
	if m.Tag != "member_info" || !strings.HasPrefix(m.Profile.TeamMemberID, "dbmid:") || m.Profile.Status[".tag"] != "active" {
		t.Fatalf("member info %s", body)
	}
	return m.Profile.TeamMemberID
}

func (f *fixture) devices(t *testing.T, id string) devices {
	t.Helper()
	var v devices
	resp, body := f.rpc(t, "team/devices/list_member_devices", bearer, `{"team_member_id":"`+id+`"}`, &v)
	if resp.StatusCode != 200 {
		t.Fatalf("list_member_devices = %d %s", resp.StatusCode, body)
	}
	return v
}

func TestDropboxAuth(t *testing.T) {
	f := demo(t, fake.Knobs{}, Config{})
	for _, auth := range []string{"", "Bearer wrong", "Basic " + DefaultToken} {
		var e apiError
		resp, body := f.rpc(t, "team/members/list_v2", auth, `{"limit":1}`, &e)
		if resp.StatusCode != 401 || e.Error.Tag != "invalid_access_token" || !strings.HasPrefix(e.Summary, "invalid_access_token/") {
			t.Errorf("auth %q: %d %s", auth, resp.StatusCode, body)
		}
	}
	t.Run("the configured token replaces the default", func(t *testing.T) {
		f := demo(t, fake.Knobs{}, Config{Token: "tok-1"})
		if resp, _ := f.rpc(t, "team/members/list_v2", "Bearer tok-1", `{"limit":1}`, nil); resp.StatusCode != 200 {
			t.Errorf("configured token: %d", resp.StatusCode)
		}
		if resp, _ := f.rpc(t, "team/members/list_v2", bearer, `{"limit":1}`, nil); resp.StatusCode != 401 {
			t.Errorf("default token once another is configured: %d", resp.StatusCode)
		}
	})
}

func TestDropboxMembers(t *testing.T) {
	f := demo(t, fake.Knobs{}, Config{})
	if id := f.memberID(t, "ALICE@example.com"); id == "" {
		t.Error("alice not found in another case")
	}
	if id := f.memberID(t, "dana@example.com"); id != "" {
		t.Errorf("dana found: %s", id)
	}
	t.Run("list_v2 honours limit and says has_more", func(t *testing.T) {
		var res struct {
			Members []json.RawMessage `json:"members"`
			HasMore bool              `json:"has_more"`
		}
		if resp, body := f.rpc(t, "team/members/list_v2", bearer, `{"limit":1}`, &res); resp.StatusCode != 200 || len(res.Members) != 1 || !res.HasMore {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
		if resp, body := f.rpc(t, "team/members/list_v2", bearer, `{}`, &res); resp.StatusCode != 200 || len(res.Members) != 3 || res.HasMore {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
		if resp, _ := f.rpc(t, "team/members/list_v2", bearer, `{"limit":0}`, nil); resp.StatusCode != 400 {
			t.Errorf("limit 0: %d", resp.StatusCode)
		}
	})
}

func TestDropboxDevices(t *testing.T) {
	f := demo(t, fake.Knobs{}, Config{})
	f.sim.AddUser("dana@example.com", 4)
	id := f.memberID(t, "dana@example.com")
	v := f.devices(t, id)
	if len(v.Web) != 2 || len(v.Desktop) != 1 || len(v.Mobile) != 1 {
		t.Fatalf("dana's devices: %+v", v)
	}
	t.Run("include flags leave kinds out", func(t *testing.T) {
		var w devices
		f.rpc(t, "team/devices/list_member_devices", bearer, `{"team_member_id":"`+id+`","include_web_sessions":false}`, &w)
		if len(w.Web) != 0 || len(w.Desktop) != 1 {
			t.Errorf("%+v", w)
		}
	})
	t.Run("an unknown member is 409 member_not_found", func(t *testing.T) {
		var e apiError
		resp, body := f.rpc(t, "team/devices/list_member_devices", bearer, `{"team_member_id":"dbmid:nobody"}`, &e)
		if resp.StatusCode != 409 || e.Error.Tag != "member_not_found" || e.Summary != "member_not_found/.." {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("the batch revokes each session of its tag; a wrong tag or a gone session is device_session_not_found", func(t *testing.T) {
		batch := `{"revoke_devices":[` +
			`{".tag":"web_session","session_id":"` + v.Web[0].SessionID + `","team_member_id":"` + id + `"},` +
			`{".tag":"web_session","session_id":"` + v.Web[1].SessionID + `","team_member_id":"` + id + `"},` +
			`{".tag":"desktop_client","session_id":"` + v.Desktop[0].SessionID + `","team_member_id":"` + id + `","delete_on_unlink":false},` +
			`{".tag":"web_session","session_id":"` + v.Mobile[0].SessionID + `","team_member_id":"` + id + `"},` +
			`{".tag":"web_session","session_id":"dbwsid:gone","team_member_id":"dbmid:nobody"}]}`
		var res struct {
			Statuses []struct {
				Success   bool              `json:"success"`
				ErrorType map[string]string `json:"error_type"`
			} `json:"revoke_devices_status"`
		}
		resp, body := f.rpc(t, "team/devices/revoke_device_session_batch", bearer, batch, &res)
		if resp.StatusCode != 200 || len(res.Statuses) != 5 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		want := []string{"", "", "", "device_session_not_found", "member_not_found"}
		for i, st := range res.Statuses {
			if st.Success != (want[i] == "") || st.ErrorType[".tag"] != want[i] {
				t.Errorf("status %d = %+v, want %q", i, st, want[i])
			}
		}
		if n := f.sim.Sessions("dropbox", "dana@example.com"); n != 1 {
			t.Errorf("dana has %d sessions left, want the mobile one", n)
		}
	})
	t.Run("revoke_device_session ends one session, then says it is gone", func(t *testing.T) {
		one := `{".tag":"mobile_client","session_id":"` + v.Mobile[0].SessionID + `","team_member_id":"` + id + `"}`
		if resp, body := f.rpc(t, "team/devices/revoke_device_session", bearer, one, nil); resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "null" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var e apiError
		if resp, _ := f.rpc(t, "team/devices/revoke_device_session", bearer, one, &e); resp.StatusCode != 409 || e.Error.Tag != "device_session_not_found" {
			t.Errorf("again: %d %+v", resp.StatusCode, e)
		}
		if n := f.sim.Sessions("dropbox", "dana@example.com"); n != 0 {
			t.Errorf("%d sessions left", n)
		}
		if n := f.sim.Sessions("dropbox", "alice@example.com"); n != 2 {
			t.Errorf("alice lost sessions: %d", n)
		}
	})
	t.Run("the record names the member of each call", func(t *testing.T) {
		for _, c := range f.sim.Calls() {
			if c.Path == "/2/team/devices/revoke_device_session" && c.User != "dana@example.com" {
				t.Errorf("%s recorded for %q", c.Path, c.User)
			}
		}
	})
}

func TestDropboxBadInputAndLimits(t *testing.T) {
	t.Run("a body that is not json is 400 in plain text", func(t *testing.T) {
		f := demo(t, fake.Knobs{}, Config{})
		resp, body := f.rpc(t, "team/members/get_info_v2", bearer, `{"members":`, nil)
		if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "Error in call to API function") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("a call without a json content type is 400", func(t *testing.T) {
		f := demo(t, fake.Knobs{}, Config{})
		resp, body := f.sim.Do(t, "POST", "/dropbox/2/team/members/list_v2", bearer, `{"limit":1}`)
		if resp.StatusCode != 400 || !strings.Contains(string(body), "Content-Type") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("over the rate limit is 429 too_many_requests with Retry-After", func(t *testing.T) {
		f := demo(t, fake.Knobs{RateLimit: 1}, Config{})
		var resp *http.Response
		var body []byte
		for range 3 { // the window may turn between two calls
			if resp, body = f.rpc(t, "team/members/list_v2", bearer, `{"limit":1}`, nil); resp.StatusCode == 429 {
				break
			}
		}
		var e apiError
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || e.Error.Reason.Tag != "too_many_requests" {
			t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
		}
	})
	t.Run("a drawn failure is a 503", func(t *testing.T) {
		f := demo(t, fake.Knobs{ErrorRate: 1}, Config{})
		if resp, body := f.rpc(t, "team/members/list_v2", bearer, `{"limit":1}`, nil); resp.StatusCode != 503 {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}
