package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

const (
	testHRSecret   = "webhook-test-hr-secret-0123456789"
	testAdminToken = "webhook-test-admin-token-0123456789"
)

// normServer is a server on SQLite and a private redis-server, with one
// generic source "hr".
type normServer struct {
	t     *testing.T
	url   string
	store *store.Store
}

func startNormServer(t *testing.T) *normServer {
	t.Helper()
	return startNormServerOn(t, "sqlite:"+t.TempDir()+"/offboarder.db", func(*Options) {})
}

// startNormServerOn is startNormServer on the database at dbURL, with the
// server's options changed by set.
func startNormServerOn(t *testing.T, dbURL string, set func(*Options)) *normServer {
	t.Helper()
	st, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr, DialTimeout: 500 * time.Millisecond}
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	srcs, err := sources.Build([]sources.Spec{{Name: "hr", Type: "generic", Settings: map[string]any{"secret": testHRSecret}}}, registry.Sources(), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: st, Queue: client, Redis: redisOpt, Sources: srcs, Connectors: []string{"okta"},
		AdminToken: testAdminToken, Logger: zerolog.Nop()}
	set(&o)
	h := New(o)
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &normServer{t: t, url: srv.URL, store: st}
}

// do sends a request and decodes the JSON answer.
func (s *normServer) do(method, path string, header http.Header, body []byte) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("%s %s: %d, not a JSON object: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func (s *normServer) admin(method, path string, body []byte) (int, map[string]any) {
	s.t.Helper()
	return s.do(method, path, http.Header{"Authorization": {"Bearer " + testAdminToken}}, body)
}

// offboard is POST /v1/offboard for email.
func (s *normServer) offboard(email string) (int, map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(sources.GenericBody{Email: email, Reason: offboard.ReasonTerminated})
	return s.admin(http.MethodPost, "/v1/offboard", b)
}

// deliver is a signed delivery of the generic source hr for email.
func (s *normServer) deliver(id, email string) (int, map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(sources.GenericBody{ID: id, Email: email, Reason: offboard.ReasonTerminated})
	return s.do(http.MethodPost, "/webhooks/hr", http.Header{
		"Content-Type":          {"application/json"},
		sources.SignatureHeader: {sources.SignatureValue(time.Now(), b, []byte(testHRSecret))},
	}, b)
}

// casesFor is GET /v1/cases?email=: the status and the cases' ids and emails.
func (s *normServer) casesFor(email string) (int, []store.Case, string) {
	s.t.Helper()
	code, out := s.admin(http.MethodGet, "/v1/cases?email="+url.QueryEscape(email), nil)
	var cs []store.Case
	if raw, ok := out["cases"]; ok {
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, &cs); err != nil {
			s.t.Fatal(err)
		}
	}
	msg, _ := out["error"].(string)
	return code, cs, msg
}

// TestAdminAPINormalizesAnEmailAsTheSourcesDo: the admin API's manual
// trigger and its case search read an email exactly as a source's delivery
// does. One person written differently — case, a trailing dot, an IDN in
// Unicode or punycode, a composed or decomposed accent — is one open case,
// whichever door each event comes in by, and every spelling finds it. An
// address with an invisible, bidi or control character is a 400 naming the
// email that records nothing; a look-alike is another person's case and
// finds nobody else's.
func TestAdminAPINormalizesAnEmailAsTheSourcesDo(t *testing.T) {
	s := startNormServer(t)

	people := []struct {
		name      string
		spellings []string // the first opens the case
		want      string
	}{
		{"an IDN domain", []string{"ALICE@BÜCHER.example", "alice@xn--bcher-kva.example.", "Alice@bu\u0308cher.EXAMPLE", "alice@ｂüｃｈｅｒ．example"}, "alice@xn--bcher-kva.example"},
		{"an accented local part", []string{"E\u0301lise@Example.COM", "\u00e9lise@example.com", "\u00c9LISE@example.com."}, "\u00e9lise@example.com"},
	}
	for _, p := range people {
		t.Run(p.name, func(t *testing.T) {
			code, out := s.offboard(p.spellings[0])
			caseID, _ := out["case_id"].(string)
			if code != http.StatusAccepted || caseID == "" {
				t.Fatalf("offboard %+q: %d %v", p.spellings[0], code, out)
			}
			for i, sp := range p.spellings {
				for door, send := range map[string]func() (int, map[string]any){
					"admin":       func() (int, map[string]any) { return s.offboard(sp) },
					"webhooks/hr": func() (int, map[string]any) { return s.deliver(fmt.Sprintf("%s-%d", p.name, i), sp) },
				} {
					code, out := send()
					if code != http.StatusAccepted || out["case_id"] != caseID {
						t.Errorf("%s %+q: %d %v, want 202 on case %s", door, sp, code, out, caseID)
					}
				}
				code, cs, msg := s.casesFor(sp)
				if code != http.StatusOK || len(cs) != 1 || cs[0].ID != caseID || cs[0].Email != p.want {
					t.Errorf("cases for %+q: %d %q %+v, want case %s of %+q", sp, code, msg, cs, caseID, p.want)
				}
			}
		})
	}

	t.Run("invisible, bidi and control characters are refused", func(t *testing.T) {
		before, err := s.store.ListCases(t.Context(), store.CaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{
			"alice\u200b@example.com", "ali\u200dce@example.com", "\ufeffalice@example.com", "alice\u202e@example.com",
			"alice\u034f@example.com", "alice\u0007@example.com", "alice\n@example.com", "alice@example.com..",
		} {
			if code, out := s.offboard(in); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["error"]), "email: ") {
				t.Errorf("offboard %+q: %d %v, want 400 naming the email", in, code, out)
			}
			if code, cs, msg := s.casesFor(in); code != http.StatusBadRequest || !strings.HasPrefix(msg, "email: ") || len(cs) != 0 {
				t.Errorf("cases for %+q: %d %q %+v, want 400 naming the email", in, code, msg, cs)
			}
		}
		after, err := s.store.ListCases(t.Context(), store.CaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("refused requests recorded %d case(s)", len(after)-len(before))
		}
	})

	t.Run("a look-alike is another person", func(t *testing.T) {
		code, out := s.offboard("bob@example.com")
		bob, _ := out["case_id"].(string)
		if code != http.StatusAccepted || bob == "" {
			t.Fatalf("offboard bob: %d %v", code, out)
		}
		for _, in := range []string{"b\u043eb@example.com", "bob@ex\u0430mple.com", "ｂｏｂ@example.com"} {
			if _, cs, _ := s.casesFor(in); len(cs) != 0 {
				t.Errorf("cases for %+q found %+v", in, cs)
			}
			code, out := s.offboard(in)
			if code != http.StatusAccepted || out["case_id"] == bob || out["case_id"] == "" {
				t.Errorf("offboard %+q: %d %v, want a case other than bob's %s", in, code, out, bob)
			}
		}
		if _, cs, _ := s.casesFor("BOB@example.com"); len(cs) != 1 || cs[0].ID != bob {
			t.Errorf("bob's cases: %+v", cs)
		}
	})
}
