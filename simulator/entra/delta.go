package entra

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/offboarder/offboarder/simulator/fake"
)

// The delta query on users and the update that it reports. Microsoft's
// documentation, cited below by these names:
//
//	[delta]          https://learn.microsoft.com/graph/api/user-delta
//	[delta-overview] https://learn.microsoft.com/graph/delta-query-overview
//	[delta-users]    https://learn.microsoft.com/graph/delta-query-users
//	[update]         https://learn.microsoft.com/graph/api/user-update

// entraDeltaToken is what the fake's state tokens carry (base64url JSON, as
// opaque to a client as Graph's): the change sequence after which the
// round lists users (0: every user), the sequence at the round's start
// (the next round's since), the offset of the next page, and $select.
type entraDeltaToken struct {
	Since  int64    `json:"s"`
	At     int64    `json:"a"`
	Offset int      `json:"o"`
	Select []string `json:"f,omitempty"`
}

func (t entraDeltaToken) encode() string {
	b, _ := json.Marshal(t) // a struct of numbers and strings cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeDeltaToken(s string) (entraDeltaToken, error) {
	var t entraDeltaToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err == nil && (t.Since < 0 || t.At < t.Since || t.Offset < 0) {
		err = errors.New("out of range")
	}
	return t, err
}

// updateUser takes {"accountEnabled": bool} and answers 204 [update]; a
// change is recorded for the delta query. Other properties are refused
// with 400: the fake keeps no other writable one.
func (e *entra) updateUser(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err := json.Unmarshal(raw, &body); err != nil {
		graphFail(w, r, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload.")
		return
	}
	var enabled *bool
	for k, v := range body {
		if k != "accountEnabled" {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Property '"+k+"' cannot be updated in the simulator.")
			return
		}
		if err := json.Unmarshal(v, &enabled); err != nil || enabled == nil {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'.")
			return
		}
	}
	key := r.PathValue("id")
	e.mu.Lock()
	u := e.find(key)
	if u != nil && enabled != nil && u.disabled == *enabled {
		u.disabled = !*enabled
		e.seq++
		u.changed = e.seq
	}
	e.mu.Unlock()
	if u == nil {
		graphNotFound(w, r, key)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// delta answers the delta function on users [delta]: the first request
// (no token) lists every user; $skiptoken goes on to the round's next page
// (an @odata.nextLink while more remain, even after an empty page); the
// last page carries an @odata.deltaLink whose $deltatoken lists the users
// changed since the round began [delta-overview]. $select on the first
// request is carried on by the tokens [delta-users]; pages hold at most
// entraPageSize users. An unreadable token is 400.
func (e *entra) delta(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var tok entraDeltaToken
	switch {
	case q.Has("$skiptoken") || q.Has("$deltatoken"):
		s := q.Get("$skiptoken")
		if s == "" {
			s = q.Get("$deltatoken")
		}
		t, err := decodeDeltaToken(s)
		if err != nil {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid delta or skip token.")
			return
		}
		tok = t
		if q.Has("$deltatoken") { // a new round: from where the last one began
			e.mu.Lock()
			tok = entraDeltaToken{Since: t.At, At: e.seq, Select: t.Select}
			e.mu.Unlock()
		}
	default:
		sel, msg := entraSelect(q.Get("$select"))
		if msg != "" {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", msg)
			return
		}
		e.mu.Lock()
		tok = entraDeltaToken{At: e.seq, Select: sel}
		e.mu.Unlock()
	}
	e.mu.Lock()
	var changed []map[string]any
	for _, id := range e.users.IDs() {
		if u := e.users.ByID(id); u.changed > tok.Since {
			changed = append(changed, e.view(u, tok.Select))
		}
	}
	e.mu.Unlock()
	start := min(tok.Offset, len(changed))
	page := changed[start:min(start+entraPageSize, len(changed))]
	if page == nil {
		page = []map[string]any{}
	}
	base := fake.CallerURL(r, entraPrefix+"/v1.0/users/delta")
	body := map[string]any{"@odata.context": entraContext(r, tok.Select, ""), "value": page}
	if next := start + len(page); next < len(changed) {
		tok.Offset = next
		body["@odata.nextLink"] = base + "?" + url.Values{"$skiptoken": {tok.encode()}}.Encode()
	} else {
		body["@odata.deltaLink"] = base + "?" + url.Values{"$deltatoken": {entraDeltaToken{Since: tok.Since, At: tok.At, Select: tok.Select}.encode()}}.Encode()
	}
	fake.WriteJSON(w, http.StatusOK, body)
}
