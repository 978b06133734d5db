package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/ssf"
	"github.com/offboarder/offboarder/tasks"
)

// The transmitter's issuer and this receiver's audience, as in CAEP 1.0's
// examples. https://openid.net/specs/openid-caep-1_0.html#session-revoked
const (
	caepIssuer   = "https://idp.example.com/123456789/"
	caepAudience = "https://sp.example.com/caep"
)

// transmitter signs SETs as an SSF transmitter would.
type transmitter struct {
	t   *testing.T
	key *rsa.PrivateKey
	kid string
}

func newTransmitter(t *testing.T) *transmitter {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &transmitter{t: t, key: key, kid: "caep-1"}
}

// jwks is the transmitter's public JWK Set.
func (tr *transmitter) jwks() string {
	tr.t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &tr.key.PublicKey, KeyID: tr.kid, Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		tr.t.Fatal(err)
	}
	return string(b)
}

// claims is a claim set of sources/ssf/testdata with jti, iat (now) and
// sub_id's email set.
func (tr *transmitter) claims(file, jti, email string) []byte {
	tr.t.Helper()
	raw, err := os.ReadFile("../sources/ssf/testdata/" + file)
	if err != nil {
		tr.t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		tr.t.Fatal(err)
	}
	c["jti"], c["iat"] = jti, time.Now().Unix()
	if email != "" {
		c["sub_id"] = map[string]any{"format": "email", "email": email}
	}
	b, err := json.Marshal(c)
	if err != nil {
		tr.t.Fatal(err)
	}
	return b
}

// sign makes a SET of claims: RS256 with key (nil: the transmitter's own)
// under the transmitter's kid, typ secevent+jwt.
// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#explicit-typing
func (tr *transmitter) sign(claims []byte, key *rsa.PrivateKey) string {
	tr.t.Helper()
	if key == nil {
		key = tr.key
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: tr.kid}},
		(&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		tr.t.Fatal(err)
	}
	obj, err := signer.Sign(claims)
	if err != nil {
		tr.t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		tr.t.Fatal(err)
	}
	return s
}

// pushSET delivers a SET as RFC 8935 prescribes: POST, Content-Type
// application/secevent+jwt, Accept application/json.
// https://www.rfc-editor.org/rfc/rfc8935.html#section-2
func (e *env) pushSET(set, contentType string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.URL+"/webhooks/caep", strings.NewReader(set))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, resp.Header, out
}

func TestSSFSessionRevokedSETRevokesSessions(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		tr := newTransmitter(t)
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "caep", Type: "ssf", Settings: map[string]any{
			"issuer": caepIssuer, "audience": caepAudience, "jwks": tr.jwks(),
		}}}})
		claims := tr.claims("caep-session-revoked-email.json", "5a8f4d0c-7c3e-4bd2-9d1e-2f6c1b0e9a11", "Alice@Example.com")

		// Refused SETs are answered with RFC 8935's error JSON, and nothing
		// is stored or queued.
		// https://www.rfc-editor.org/rfc/rfc8935.html#section-2.3
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		forged := tr.sign(claims, other)
		for _, c := range []struct {
			name, set, contentType, err string
		}{
			{"a signature by another key", forged, ssf.ContentType, "invalid_key"},
			{"a SET sent as JSON", tr.sign(claims, nil), "application/json", "invalid_request"},
			{"a SET for another receiver", tr.sign(tr.claimsWith(claims, "aud", "https://other.example/"), nil), ssf.ContentType, "invalid_audience"},
		} {
			code, h, res := e.pushSET(c.set, c.contentType)
			if code != http.StatusBadRequest || !strings.HasPrefix(h.Get("Content-Type"), "application/json") ||
				res["err"] != c.err || res["description"] == "" || len(res) != 2 {
				t.Fatalf("%s: want 400 {err: %s, description}, got %d %q %v", c.name, c.err, code, h.Get("Content-Type"), res)
			}
		}
		if n := len(e.cases()); n != 0 {
			t.Fatalf("%d cases stored from refused SETs", n)
		}
		if n := e.queued(tasks.QueueOffboard); n != 0 {
			t.Fatalf("%d tasks enqueued from refused SETs", n)
		}

		// A good SET is acknowledged with 202 Accepted.
		// https://www.rfc-editor.org/rfc/rfc8935.html#section-2.2
		code, _, res := e.pushSET(tr.sign(claims, nil), ssf.ContentType)
		if code != http.StatusAccepted || res["duplicate"] != false {
			t.Fatalf("SET: want 202, got %d %v", code, res)
		}
		id, _ := res["case_id"].(string)
		c := e.waitCase(id)
		if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.Reason != offboard.ReasonSecurity {
			t.Fatalf("case: %+v", c)
		}
		if len(c.Entries) != 1 || c.Entries[0].Connector != "okta" || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("entries: %+v", c.Entries)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("simulator still holds %d sessions for alice", n)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Fatalf("bob's sessions were touched: %d left", n)
		}

		// The transmitter retries a SET it did not see acknowledged: the same
		// jti, signed again, is the same case and queues nothing new.
		code, _, res = e.pushSET(tr.sign(claims, nil), ssf.ContentType)
		if code != http.StatusAccepted || res["duplicate"] != true || res["case_id"] != id {
			t.Fatalf("repeated jti: %d %v (case %s)", code, res, id)
		}
		if all := e.cases(); len(all) != 1 {
			t.Fatalf("want one case, got %d", len(all))
		}
		got, err := e.Store.GetCase(t.Context(), id)
		if err != nil || len(got.Events) != 1 || got.Events[0].EventID != "5a8f4d0c-7c3e-4bd2-9d1e-2f6c1b0e9a11" || got.Events[0].Source != "caep" {
			t.Fatalf("want the one event on the case, got %+v, %v", got, err)
		}
		// A session revoked at the transmitter is a security case: its
		// tasks — one offboard, one revoke (okta), however many times the
		// SET came — are on the security queue, ahead of any backlog.
		if n, other := e.queued(tasks.QueueSecurity), e.queued(tasks.QueueOffboard)+e.queued(tasks.QueueRevoke); n != 2 || other != 0 {
			t.Fatalf("want the case's offboard and revoke tasks on the security queue, got %d (and %d on the others)", n, other)
		}

		// The stream's verification event is acknowledged and offboards
		// nobody: 202 as RFC 8935 §2.2 asks for every valid SET, with the
		// reason in the body.
		// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#verification-event
		code, _, res = e.pushSET(tr.sign(tr.claims("ssf-verification.json", "verify-1", ""), nil), ssf.ContentType)
		if code != http.StatusAccepted || res["status"] != "ignored" || res["reason"] != "ssf verification event" {
			t.Fatalf("verification event: %d %v", code, res)
		}
		if n := len(e.cases()); n != 1 {
			t.Fatalf("the verification event made a case: %d cases", n)
		}
		if log := e.Log.String(); strings.Contains(log, forged[strings.LastIndexByte(forged, '.')+1:]) || bytes.Contains([]byte(log), claims) {
			t.Fatal("a SET or its signature appears in the log")
		}
	})
}

// claimsWith returns claims with one claim replaced.
func (tr *transmitter) claimsWith(claims []byte, name string, v any) []byte {
	tr.t.Helper()
	var c map[string]any
	if err := json.Unmarshal(claims, &c); err != nil {
		tr.t.Fatal(err)
	}
	c[name] = v
	b, err := json.Marshal(c)
	if err != nil {
		tr.t.Fatal(err)
	}
	return b
}
