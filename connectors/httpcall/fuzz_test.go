package httpcall_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
)

// recorder is a transport that answers 204 to every request and keeps them.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.body = append(r.body, b)
	r.mu.Unlock()
	return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// FuzzHTTPTemplate: a subject's email and id, whatever they hold, go
// through the path, the body and a header without a panic and never
// take the request off base_url: each value stays the one path segment
// and the one query value it was put in, and the body stays JSON holding
// it. A subject the templates cannot take (a "." or ".." in the path, a
// line break in a header) is an error and no request. The seeds are in
// testdata/fuzz/FuzzHTTPTemplate.
func FuzzHTTPTemplate(f *testing.F) {
	f.Add("isaac.brock@example.com", "00u1abcd")
	rt := new(recorder)
	cs, err := connectors.Build([]connectors.Spec{{Name: "app", Type: "http", Settings: map[string]any{
		"base_url": "https://app.example.com/api",
		"path":     "/users/{{.Email}}/ids/{{.IDs.app}}/logout?e={{.Email}}&id={{.IDs.app}}",
		"headers":  map[string]any{"Authorization": "Bearer fuzz-token-0123456789", "X-Id": "{{.IDs.app}}"},
		"body":     `{"email": {{json .Email}}, "id": {{json .IDs.app}}}`,
	}}}, types, connectors.Deps{HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		f.Fatal(err)
	}
	c := cs[0]
	f.Fuzz(func(t *testing.T, email, id string) {
		rt.mu.Lock()
		rt.reqs, rt.body = nil, nil
		rt.mu.Unlock()
		out, err := c.Revoke(t.Context(), offboard.Subject{Email: email, IDs: map[string]string{"app": id}, Reason: offboard.ReasonTerminated})
		rt.mu.Lock()
		defer rt.mu.Unlock()
		if len(rt.reqs) == 0 {
			if err == nil {
				t.Fatalf("no request and no error (outcome %q)", out)
			}
			return
		}
		if len(rt.reqs) != 1 || err != nil || out != offboard.Acknowledged {
			t.Fatalf("%d requests, %q, %v; want one, acknowledged", len(rt.reqs), out, err)
		}
		u := rt.reqs[0].URL
		if u.Scheme != "https" || u.Host != "app.example.com" || u.User != nil || u.Fragment != "" {
			t.Fatalf("request to %s, off base_url", u.Redacted())
		}
		segs := strings.Split(u.EscapedPath(), "/")
		if len(segs) != 7 || segs[0] != "" || segs[1] != "api" || segs[2] != "users" || segs[4] != "ids" || segs[6] != "logout" {
			t.Fatalf("path %q, want /api/users/<email>/ids/<id>/logout", u.EscapedPath())
		}
		if got, _ := url.PathUnescape(segs[3]); got != email {
			t.Errorf("email segment %q decodes to %q, want %q", segs[3], got, email)
		}
		if got, _ := url.PathUnescape(segs[5]); got != id {
			t.Errorf("id segment %q decodes to %q, want %q", segs[5], got, id)
		}
		if q, err := url.ParseQuery(u.RawQuery); err != nil || len(q) != 2 || q.Get("e") != email || q.Get("id") != id {
			t.Errorf("query %q, want e and id alone and whole", u.RawQuery)
		}
		var body map[string]string
		if err := json.Unmarshal(rt.body[0], &body); err != nil || len(body) != 2 || body["email"] != viaJSON(email) || body["id"] != viaJSON(id) {
			t.Errorf("body %q, want {email, id} as JSON (%v)", rt.body[0], err)
		}
		if got := rt.reqs[0].Header.Get("X-Id"); got != id {
			t.Errorf("X-Id = %q, want %q", got, id)
		}
	})
}

// viaJSON is s as JSON carries it: invalid UTF-8 becomes U+FFFD.
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
