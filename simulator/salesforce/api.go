package salesforce

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token issues an access token for the client credentials flow:
// grant_type=client_credentials with client_id and client_secret in the
// form (or as HTTP Basic). The answer carries instance_url, id, issued_at
// (milliseconds) and signature, and no expires_in. A wrong client is 400
// invalid_client, another grant 400 unsupported_grant_type.
// https://developer.salesforce.com/docs/atlas.en-us.chatterapi.meta/chatterapi/quickstart_connecting.htm
func (v *salesforce) token(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if ct != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "invalid request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		fake.OAuth2Fail(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	}
	if id, secret := fake.PresentedClient(r, r.PostForm); !v.credentials().Is(id, secret) {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	access := v.tokens.Mint(orgID+"!", 24, tokenLife)
	instance := fake.CallerURL(r, "/salesforce")
	fake.WriteJSON(w, http.StatusOK, map[string]string{
		"access_token": access, "signature": fake.RandomHex(16), "token_format": "opaque", "scope": "api",
		"instance_url": instance, "id": instance + "/id/" + orgID + "/" + sfID(userPrefix, "integration"),
		"token_type": "Bearer", "issued_at": strconv.FormatInt(v.now().UnixMilli(), 10),
	})
}

// revoke revokes the OAuth token whose delete token (or refresh token) it
// is given as token, in the form of a POST or the query of a GET: 200 with
// no body; 400 invalid_token for a token it does not know.
// https://developer.salesforce.com/docs/atlas.en-us.mobile_sdk.meta/mobile_sdk/oauth_revoking_tokens.htm
// and the OauthToken reference's "send a request to the revoke OAuth token
// endpoint with the DeleteToken as the parameter".
func (v *salesforce) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	_ = r.ParseForm()
	token := r.Form.Get("token")
	found := false
	v.mu.Lock()
	for _, id := range v.users.IDs() {
		u := v.users.ByID(id)
		for i, t := range u.tokens {
			if token != "" && fake.SameSecret(token, t.deleteToken) {
				u.tokens, found = append(u.tokens[:i:i], u.tokens[i+1:]...), true
				break
			}
		}
	}
	v.mu.Unlock()
	if !found {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_token", "invalid token")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// query runs a SOQL query and answers its first batch:
// {"totalSize","done","records"} and, when more are left, nextRecordsUrl.
// A malformed query is 400 MALFORMED_QUERY, an unknown object 400
// INVALID_TYPE, an unknown field 400 INVALID_FIELD.
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
func (v *salesforce) query(w http.ResponseWriter, r *http.Request) {
	version, ok := v.version(w, r)
	if !ok {
		return
	}
	raw := r.URL.Query().Get("q")
	q, err := parse(raw)
	if err != nil {
		fail(w, http.StatusBadRequest, "MALFORMED_QUERY", err.Error())
		return
	}
	o := lookup(q.object)
	if o == nil {
		fail(w, http.StatusBadRequest, "INVALID_TYPE", "\n"+raw+"\n^\nERROR at Row:1:Column:1\nsObject type '"+q.object+"' is not supported.")
		return
	}
	for _, f := range append(q.fields, condFields(q)...) {
		if o.field(f) == "" {
			fail(w, http.StatusBadRequest, "INVALID_FIELD", "\n"+raw+"\n^\nERROR at Row:1:Column:1\nNo such column '"+f+"' on entity '"+o.name+"'.")
			return
		}
	}
	v.mu.Lock()
	var records []map[string]any
	for _, row := range v.rows(o, version) {
		if q.match(func(f string) (string, bool) { s, ok := row[o.field(f)].(string); return s, ok }) {
			records = append(records, project(row, o, q.fields))
		}
	}
	if q.limit > 0 && len(records) > q.limit {
		records = records[:q.limit]
	}
	v.mu.Unlock()
	v.answer(w, version, records, len(records), o.batch)
}

// more answers the next batch of a query at its locator; an unknown
// locator is 400 INVALID_QUERY_LOCATOR.
func (v *salesforce) more(w http.ResponseWriter, r *http.Request) {
	version, ok := v.version(w, r)
	if !ok {
		return
	}
	loc := r.PathValue("locator")
	v.mu.Lock()
	records, ok := v.cursors[loc]
	delete(v.cursors, loc)
	v.mu.Unlock()
	if !ok {
		fail(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	total, _ := strconv.Atoi(loc[strings.LastIndexByte(loc, '-')+1:])
	v.answer(w, version, records, total+len(records), batchOf(records))
}

// answer writes one batch of records, keeping the rest under a new
// locator; total is the query's totalSize.
func (v *salesforce) answer(w http.ResponseWriter, version string, records []map[string]any, total, batch int) {
	out := map[string]any{"totalSize": total, "done": true, "records": records}
	if records == nil {
		out["records"] = []any{}
	}
	if len(records) > batch {
		v.mu.Lock()
		v.serial++
		done := total - len(records) + batch
		loc := sfID(queryPrefix, "query:"+strconv.Itoa(v.serial)) + "-" + strconv.Itoa(done)
		v.cursors[loc] = records[batch:]
		v.mu.Unlock()
		out["done"], out["records"] = false, records[:batch]
		out["nextRecordsUrl"] = "/services/data/" + version + "/query/" + loc
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

// delete deletes a record: an AuthSession, which ends that session, 204.
// An unknown session is 404 NOT_FOUND; an object whose reference lists no
// delete() (User, OauthToken) is 400 INVALID_TYPE_FOR_OPERATION.
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_delete_record.htm
func (v *salesforce) delete(w http.ResponseWriter, r *http.Request) {
	if _, ok := v.version(w, r); !ok {
		return
	}
	o := lookup(r.PathValue("object"))
	switch {
	case o == nil:
		fail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	case o.name != "AuthSession":
		fail(w, http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type "+o.name+" does not support delete")
		return
	}
	id, found := r.PathValue("id"), false
	v.mu.Lock()
	for _, uid := range v.users.IDs() {
		u := v.users.ByID(uid)
		for i, s := range u.sessions {
			if s == id {
				u.sessions, found = append(u.sessions[:i:i], u.sessions[i+1:]...), true
				break
			}
		}
	}
	v.mu.Unlock()
	if !found {
		fail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// version checks the path's API version, vNN.0 from v20.0 to v66.0; any
// other is 404 NOT_FOUND, as an unknown resource.
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
func (v *salesforce) version(w http.ResponseWriter, r *http.Request) (string, bool) {
	s := r.PathValue("version")
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(s, "v"), ".0"))
	if err != nil || !strings.HasPrefix(s, "v") || !strings.HasSuffix(s, ".0") || n < minVersion || n > maxVersion {
		fail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return "", false
	}
	return s, true
}
