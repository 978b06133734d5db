package scim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// defaultCount is the page size when a query sets no count. Lucid
// documents none; RFC 7644 §3.4.2.4 leaves it to the server.
const defaultCount = 100

// listUsers answers a ListResponse of the users the filter matches, paged
// by startIndex (1-based; below 1 counts as 1) and count (negative counts
// as 0) [RFC 7644 §3.4.2.4]. A bad filter is 400 invalidFilter, a bound
// that is not an integer 400 invalidValue.
// https://developer.lucid.co/reference/getallusers
func (l *lucid) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err1 := queryInt(q.Get("startIndex"), 1)
	count, err2 := queryInt(q.Get("count"), defaultCount)
	if err1 != nil || err2 != nil {
		scimFail(w, http.StatusBadRequest, "invalidValue", "startIndex and count must be integers")
		return
	}
	start, count = max(start, 1), max(count, 0)
	var f *filter
	if s := q.Get("filter"); s != "" {
		parsed, err := parseFilter(s)
		if err != nil {
			scimFail(w, http.StatusBadRequest, "invalidFilter", strings.TrimPrefix(err.Error(), "invalidFilter: "))
			return
		}
		f = &parsed
	}
	l.mu.Lock()
	var matched []*lucidUser
	ids := l.users.IDs()
	if email := fEmail(f); email != "" {
		// Every user's userName and email are one lower-case address:
		// an address matches one user at most, so skip the scan.
		ids = nil
		if u := l.users.ByEmail(email); u != nil {
			ids = []string{u.id}
		}
	}
	for _, id := range ids {
		if u := l.users.ByID(id); f == nil || f.matches(u) {
			matched = append(matched, u)
		}
	}
	page := []map[string]any{}
	for i := start - 1; i < len(matched) && len(page) < count; i++ {
		page = append(page, view(r, matched[i]))
	}
	l.mu.Unlock()
	writeSCIM(w, http.StatusOK, map[string]any{"schemas": []string{listSchema}, "totalResults": len(matched),
		"startIndex": start, "itemsPerPage": len(page), "Resources": page})
}

// fEmail is the address f names by userName or email, or "".
func fEmail(f *filter) string {
	if f == nil {
		return ""
	}
	return f.email()
}

// getUser answers the user, or 404 (Lucid's Get User: "404 Not Found" when
// the user was not found).
// https://community.lucid.co/admin-questions-2/scim-common-error-codes-with-troubleshooting-steps-6685
func (l *lucid) getUser(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	u := l.users.ByID(r.PathValue("id"))
	var out map[string]any
	if u != nil {
		out = view(r, u)
	}
	l.mu.Unlock()
	if u == nil {
		scimFail(w, http.StatusNotFound, "", "Resource "+r.PathValue("id")+" not found")
		return
	}
	writeSCIM(w, http.StatusOK, out)
}

// patchOp is one operation of a PatchOp [RFC 7644 §3.5.2].
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// patchUser applies a PatchOp that sets active [RFC 7644 §3.5.2.3], with a
// path ({"op":"replace","path":"active","value":false}) or without one
// ({"op":"replace","value":{"active":false}}); op is case-insensitive, and
// add sets a single-valued attribute as replace does [RFC 7644 §3.5.2.1].
// It answers 200 with the user. A body that is not a PatchOp is 400
// invalidSyntax; a value that is not a boolean 400 invalidValue; any other
// attribute 400 invalidPath (the fake changes only active). An unknown id is
// 403, as Lucid documents for Modify User ("Forbidden. Occurs if the user
// does not exist", https://lucid.readme.io/v1.0/reference/modifyuserpatch).
func (l *lucid) patchUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Schemas    []string  `json:"schemas"`
		Operations []patchOp `json:"Operations"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	if err != nil || json.Unmarshal(raw, &body) != nil || !slices.Contains(body.Schemas, patchSchema) || len(body.Operations) == 0 {
		scimFail(w, http.StatusBadRequest, "invalidSyntax", "the body must be a PatchOp with schemas ["+patchSchema+"] and Operations")
		return
	}
	var active *bool
	for _, op := range body.Operations {
		v, scimType, detail := activeOf(op)
		if scimType != "" {
			scimFail(w, http.StatusBadRequest, scimType, detail)
			return
		}
		active = &v
	}
	l.mu.Lock()
	u := l.users.ByID(r.PathValue("id"))
	var out map[string]any
	if u != nil {
		u.active, u.modified = *active, time.Now().UTC().Truncate(time.Second)
		out = view(r, u)
	}
	l.mu.Unlock()
	if u == nil {
		scimFail(w, http.StatusForbidden, "", "user does not exist")
		return
	}
	writeSCIM(w, http.StatusOK, out)
}

// activeOf is the value op gives active or, when op is not one the fake
// applies, the scimType and detail of the 400 it answers.
func activeOf(op patchOp) (active bool, scimType, detail string) {
	switch strings.ToLower(op.Op) {
	case "replace", "add":
	case "remove":
		return false, "invalidPath", "active cannot be removed"
	default:
		return false, "invalidSyntax", "op must be add, remove or replace"
	}
	values := map[string]json.RawMessage{}
	if op.Path != "" {
		values[op.Path] = op.Value
	} else if json.Unmarshal(op.Value, &values) != nil {
		return false, "invalidSyntax", "an operation without a path needs an object value"
	}
	if len(values) == 0 {
		return false, "invalidPath", "the value sets no attribute"
	}
	for k, raw := range values {
		if !strings.EqualFold(k, "active") {
			return false, "invalidPath", "this service changes only active, not " + strconv.Quote(k)
		}
		var b *bool
		if json.Unmarshal(raw, &b) != nil || b == nil {
			return false, "invalidValue", "active must be true or false"
		}
		active = *b
	}
	return active, "", ""
}

// serviceProviderConfig answers what the fake supports [RFC 7643 §5]:
// PATCH, filter (eq only), no bulk, sort, etag or password change; bearer
// tokens.
func (l *lucid) serviceProviderConfig(w http.ResponseWriter, _ *http.Request) {
	writeSCIM(w, http.StatusOK, map[string]any{
		"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":          map[string]bool{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": 10000},
		"changePassword": map[string]bool{"supported": false},
		"sort":           map[string]bool{"supported": false},
		"etag":           map[string]bool{"supported": false},
		"authenticationSchemes": []map[string]any{{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "the SCIM bearer token from Admin > App Integration > SCIM", "primary": true}},
	})
}

// view renders u as a User resource [RFC 7643 §4.1]; lucid.mu must be held.
func view(r *http.Request, u *lucidUser) map[string]any {
	first, last := fake.Names(u.email)
	return map[string]any{
		"schemas": []string{userSchema}, "id": u.id, "userName": u.email, "displayName": u.displayName(),
		"name":   map[string]string{"givenName": first, "familyName": last, "formatted": first + " " + last},
		"emails": []map[string]any{{"value": u.email, "type": "work", "primary": true}},
		"active": u.active,
		"meta": map[string]string{"resourceType": "User", "created": u.created.Format(time.RFC3339),
			"lastModified": u.modified.Format(time.RFC3339), "location": fake.CallerURL(r, "/lucid"+scimRoot+"/Users/"+u.id)},
	}
}

// queryInt parses s, or answers def for "".
func queryInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
