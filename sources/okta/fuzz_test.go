package okta

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/offboarder/offboarder/sources"
)

func FuzzOktaParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no okta deliveries in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"data":{"events":[{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[{"id":"00ua","type":"User","alternateId":"A@Example.com"}]}]}}`))
	f.Add([]byte(`{"data":{"events":[{"uuid":"u1","eventType":"user.lifecycle.suspend","target":[{"type":"User","login":"b@bücher.example"},{"type":"User"}]}]}}`))
	f.Add([]byte(`{"data":{"events":[]}}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`[]`))
	o := newTestOkta(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := o.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
		if err != nil {
			if !errors.Is(err, sources.ErrMalformed) {
				t.Fatalf("error not classified: %v", err)
			}
			return
		}
		if len(d.Events) == 0 {
			if d.Ignored == "" {
				t.Fatal("a delivery without events must say why")
			}
			return
		}
		seen := map[string]bool{}
		for _, ev := range d.Events {
			if ev.ID == "" || len(ev.ID) > 200 || !sources.Printable(ev.ID) || seen[ev.ID] {
				t.Fatalf("bad or repeated event id: %+v", ev)
			}
			seen[ev.ID] = true
			if oktaDefaultEvents[ev.Type] == "" || ev.Reason != oktaDefaultEvents[ev.Type] {
				t.Fatalf("event of an unmapped type or with the wrong reason: %+v", ev)
			}
			again, err := sources.NormalizeEmail(ev.Email)
			if err != nil || again != ev.Email {
				t.Fatalf("email %q not stable under normalisation: %q, %v", ev.Email, again, err)
			}
			if id, ok := ev.IDs["okta"]; ok && !oktaIDRE.MatchString(id) || len(ev.IDs) > 1 {
				t.Fatalf("bad subject ids: %v", ev.IDs)
			}
		}
	})
}

// FuzzOktaHandshake checks that the verification answer is always JSON that
// echoes the challenge exactly, and only to a caller with the secret.
func FuzzOktaHandshake(f *testing.F) {
	f.Add("Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg", oktaSecret)
	f.Add(`"},{"verification":"x`, oktaSecret)
	f.Add("\u2028<script>\x00", oktaSecret)
	f.Add("abc", "")
	f.Add("abc", oktaSecret+" ")
	o := newTestOkta(f, nil)
	f.Fuzz(func(t *testing.T, challenge, auth string) {
		h := http.Header{}
		h.Set(ChallengeHeader, challenge)
		if auth != "" {
			h.Set("Authorization", auth)
		}
		resp, ok := o.Handshake(&sources.Request{Context: t.Context(), Method: http.MethodGet, Header: h})
		if !ok {
			t.Fatal("a GET with a challenge header is a handshake")
		}
		var body map[string]string
		if err := json.Unmarshal(resp.Body, &body); err != nil || resp.ContentType != "application/json" {
			t.Fatalf("answer is not JSON: %q %q", resp.ContentType, resp.Body)
		}
		switch resp.Status {
		case http.StatusOK:
			if auth != oktaSecret {
				t.Fatalf("answered the challenge without the secret (auth %q)", auth)
			}
			if len(body) != 1 || body["verification"] != challenge {
				t.Fatalf("echo %q, want %q", body["verification"], challenge)
			}
		case http.StatusUnauthorized:
			if auth == oktaSecret {
				t.Fatal("refused the right secret")
			}
		case http.StatusBadRequest:
			if auth != oktaSecret || (challenge != "" && len(challenge) <= oktaMaxChallenge && sources.Printable(challenge)) {
				t.Fatalf("400 for auth %q, challenge %q", auth, challenge)
			}
		default:
			t.Fatalf("unexpected status %d", resp.Status)
		}
	})
}
