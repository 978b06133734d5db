package caep_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/caep"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

func TestCAEPConformance(t *testing.T) {
	ec, _, _ := keys(t)
	want := http.Header{"Content-Type": {"application/secevent+jwt"}, "Accept": {"application/json"}, "Authorization": {"Bearer " + token}}
	push := func(status int, header map[string]string, body string) conformance.Step {
		return conformance.Step{Method: "POST", Path: pushPath, Status: status, Header: header, Body: body}
	}
	conformance.Run(t, conformance.Harness{
		New: func(base string) (connectors.Connector, error) {
			return open(t, ec, map[string]any{"url": base + pushPath, "token": token}), nil
		},
		Secret:  token,
		Subject: offboard.Subject{Email: who, Reason: offboard.ReasonTerminated, Case: caseID},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return conformance.Script(t, want, push(202, nil, ""))
			case conformance.NotFound:
				return nil // a push never looks the subject up
			case conformance.RateLimited:
				return conformance.Script(t, want, push(429, map[string]string{"Retry-After": "30"}, ""))
			case conformance.ServerError:
				return conformance.Script(t, want, push(503, nil, `{"err":"temporarily_unavailable","description":"try later"}`))
			case conformance.Unauthorized:
				return conformance.Script(t, want, push(401, map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}, ""))
			}
			return conformance.Hanging()
		},
	})
}

// Every error code of RFC 8935 §2.4, answered 400 with the §2.3 body, is
// classified: what a person must fix fails the entry with a message that
// says what to look at; invalid_key is retried.
func TestCAEPReceiverErrors(t *testing.T) {
	ec, _, _ := keys(t)
	tests := []struct {
		name      string
		answer    answer
		kind      vendorapi.Kind
		retryable bool
		text      []string
	}{
		{"invalid_request is permanent and points at subject_format", setErr("invalid_request", "'events.sessionRevoked.subject': The field cannot be left blank"),
			vendorapi.Invalid, false, []string{"invalid_request", "subject_format", "cannot be left blank"}},
		{"invalid_key is retried after the key set's cache time: a receiver may hold the keys from before a rotation", setErr("invalid_key", "no key for kid"),
			vendorapi.Transient, true, []string{"invalid_key", "rotation"}},
		{"invalid_issuer is permanent and names the issuer setting", setErr("invalid_issuer", "unknown issuer"),
			vendorapi.Invalid, false, []string{"invalid_issuer", "issuer"}},
		{"invalid_audience is permanent and names the audience setting", setErr("invalid_audience", "aud mismatch"),
			vendorapi.Invalid, false, []string{"invalid_audience", "audience"}},
		{"authentication_failed is a permanent auth error", setErr("authentication_failed", "Could not verify message signature"),
			vendorapi.Auth, false, []string{"authentication_failed", "token", "jwks_uri"}},
		{"access_denied is a permanent auth error", setErr("access_denied", "not allowed"),
			vendorapi.Auth, false, []string{"access_denied"}},
		{"an unknown code keeps the 400's classification", setErr("invalid_state", "state mismatch"),
			vendorapi.Invalid, false, []string{"invalid_state"}},
		{"a 400 that is not RFC 8935's shape is permanent", answer{status: 400, body: `<html>bad</html>`},
			vendorapi.Invalid, false, []string{"request rejected"}},
		{"a 503 with an err body stays retryable", answer{status: 503, body: `{"err":"access_denied"}`},
			vendorapi.Transient, true, nil},
		{"a 404 is not not_found: the url is wrong", answer{status: 404, body: ""},
			vendorapi.NotFound, false, []string{"not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &receiverFake{t: t, answers: []answer{tt.answer}}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			c := open(t, ec, map[string]any{"url": srv.URL + pushPath})
			out, err := c.Revoke(t.Context(), offboard.Subject{Email: who, Case: caseID})
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok {
				t.Fatalf("Revoke = %q, %v; want a *vendorapi.Error", out, err)
			}
			if e.Kind != tt.kind || vendorapi.Retryable(err) != tt.retryable {
				t.Errorf("kind %v retryable %v, want %v %v: %v", e.Kind, vendorapi.Retryable(err), tt.kind, tt.retryable, err)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "caep: receiver 127.0.0.1:") {
				t.Errorf("error %q does not name the connector and the receiver", err)
			}
			if tt.kind == vendorapi.Transient && tt.answer.status == 400 && e.RetryAfter != caep.MaxAge {
				t.Errorf("RetryAfter = %v, want the key set's max age %v", e.RetryAfter, caep.MaxAge)
			}
		})
	}
}

func TestCAEPInvalidKeyIsRetriedAFewTimesThenFails(t *testing.T) {
	ec, _, _ := keys(t)
	f := &receiverFake{t: t, answers: []answer{setErr("invalid_key", "unknown kid")}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := open(t, ec, map[string]any{"url": srv.URL + pushPath})
	s := offboard.Subject{Email: who, Case: caseID}
	for i := 1; i <= 3; i++ {
		if _, err := c.Revoke(t.Context(), s); !vendorapi.Retryable(err) {
			t.Fatalf("attempt %d: %v, want a retryable error", i, err)
		}
	}
	_, err := c.Revoke(t.Context(), s)
	if vendorapi.Retryable(err) || !vendorapi.IsKind(err, vendorapi.Invalid) || !strings.Contains(err.Error(), issuer+"/.well-known/jwks.json") {
		t.Fatalf("fourth invalid_key: %v; want a permanent error naming the jwks_uri", err)
	}
	t.Run("another case has its own count", func(t *testing.T) {
		if _, err := c.Revoke(t.Context(), offboard.Subject{Email: who, Case: "another"}); !vendorapi.Retryable(err) {
			t.Fatalf("first invalid_key of another case: %v, want retryable", err)
		}
	})
}

func TestCAEPTwoReceivers(t *testing.T) {
	ec, _, _ := keys(t)
	run := func(t *testing.T, second answer) (connectors.Connector, *receiverFake, *receiverFake, string, error) {
		good, bad := &receiverFake{t: t}, &receiverFake{t: t, answers: []answer{second}}
		gs, bs := httptest.NewServer(good), httptest.NewServer(bad)
		t.Cleanup(gs.Close)
		t.Cleanup(bs.Close)
		c := open(t, ec, map[string]any{"url": gs.URL + pushPath}, map[string]any{"url": bs.URL + pushPath})
		ctx, detail := connectors.WithReport(t.Context())
		out, err := c.Revoke(ctx, offboard.Subject{Email: who, Case: caseID})
		if out != "" && err != nil {
			t.Errorf("outcome %q with an error", out)
		}
		return c, good, bad, detail(), err
	}
	t.Run("both accept: acknowledged, and the detail names each receiver", func(t *testing.T) {
		_, good, bad, detail, err := run(t, answer{status: 202})
		if err != nil {
			t.Fatal(err)
		}
		if len(good.received()) != 1 || len(bad.received()) != 1 {
			t.Fatalf("SETs received: %d and %d, want one each", len(good.received()), len(bad.received()))
		}
		if strings.Count(detail, "session-revoked accepted") != 2 || !strings.Contains(detail, "own policy") {
			t.Errorf("detail = %q", detail)
		}
	})
	t.Run("one refuses for good: the entry fails naming it, and the other still got its SET", func(t *testing.T) {
		_, good, bad, _, err := run(t, setErr("invalid_audience", "aud"))
		if err == nil || vendorapi.Retryable(err) {
			t.Fatalf("err = %v, want a permanent error", err)
		}
		if len(good.received()) != 1 || len(bad.received()) != 1 {
			t.Fatalf("SETs received: %d and %d, want one each", len(good.received()), len(bad.received()))
		}
		if !strings.Contains(err.Error(), "invalid_audience") || strings.Count(err.Error(), "receiver 127.0.0.1:") != 1 {
			t.Errorf("error %q should name the one failing receiver", err)
		}
	})
	t.Run("one is down: retryable with its wait, and the retry sends the same jti to both", func(t *testing.T) {
		c, good, bad, _, err := run(t, answer{status: 503, header: map[string]string{"Retry-After": "20"}})
		if !vendorapi.Retryable(err) || vendorapi.RetryAfter(err) != 20*time.Second {
			t.Fatalf("err = %v, want retryable after 20s", err)
		}
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: who, Case: caseID}); err == nil || out != "" {
			t.Fatalf("the receiver is still down: %q, %v", out, err)
		}
		g, b := good.received(), bad.received()
		if len(g) != 2 || len(b) != 2 {
			t.Fatalf("SETs: %d and %d, want two each", len(g), len(b))
		}
		jtiOf := func(set string) string { return unverifiedClaims(t, set)["jti"].(string) }
		if jtiOf(g[0]) != jtiOf(g[1]) || jtiOf(b[0]) != jtiOf(b[1]) {
			t.Error("a retry sent a new jti: a receiver that took the first cannot tell it is the same event")
		}
		if jtiOf(g[0]) == jtiOf(b[0]) {
			t.Error("two receivers got the same jti")
		}
	})
	t.Run("one down and one refusing: retryable, and the error names both", func(t *testing.T) {
		good, bad := &receiverFake{t: t, answers: []answer{setErr("access_denied", "no")}}, &receiverFake{t: t, answers: []answer{{status: 500}}}
		gs, bs := httptest.NewServer(good), httptest.NewServer(bad)
		t.Cleanup(gs.Close)
		t.Cleanup(bs.Close)
		c := open(t, ec, map[string]any{"url": gs.URL + pushPath}, map[string]any{"url": bs.URL + pushPath})
		_, err := c.Revoke(t.Context(), offboard.Subject{Email: who, Case: caseID})
		if !vendorapi.Retryable(err) || !strings.Contains(err.Error(), "2 of 2 receivers failed") || !strings.Contains(err.Error(), "access_denied") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCAEPSubjectFormats(t *testing.T) {
	ec, _, _ := keys(t)
	docs := func(c connectors.Connector) *caep.Documents {
		d, err := caep.Publish([]connectors.Connector{c})
		if err != nil || d == nil {
			t.Fatalf("Publish = %v, %v", d, err)
		}
		return d
	}
	tests := []struct {
		name, format string
		reason       offboard.Reason
		wantSubID    any
		wantEvent    map[string]any
	}{{
		name: "sub_id (the default): SSF 1.0's top-level email subject, the event without a subject", format: "",
		reason:    offboard.ReasonTerminated,
		wantSubID: map[string]any{"format": "email", "email": who},
		wantEvent: map[string]any{"initiating_entity": "policy", "reason_admin": map[string]any{"en": "offboarding (terminated), offboarder case " + caseID}},
	}, {
		name: "event_subject: Okta's subject.user inside the event and no sub_id", format: "event_subject",
		reason: offboard.ReasonManual,
		wantEvent: map[string]any{"initiating_entity": "admin", "reason_admin": map[string]any{"en": "offboarding (manual), offboarder case " + caseID},
			"subject": map[string]any{"user": map[string]any{"format": "email", "email": who}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &receiverFake{t: t}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			r := map[string]any{"url": srv.URL + pushPath, "audience": "https://acme.okta.com/"}
			if tt.format != "" {
				r["subject_format"] = tt.format
			}
			c := open(t, ec, r)
			before := time.Now().Unix()
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: who, Reason: tt.reason, Case: caseID}); err != nil || out != offboard.Acknowledged {
				t.Fatalf("Revoke = %q, %v", out, err)
			}
			sets := f.received()
			if len(sets) != 1 {
				t.Fatalf("%d SETs, want 1", len(sets))
			}
			v := verify(t, sets[0], docs(c).JWKS)
			cl := v.claims
			if cl["iss"] != issuer || cl["aud"] != "https://acme.okta.com/" || cl["txn"] != caseID {
				t.Errorf("iss %v aud %v txn %v", cl["iss"], cl["aud"], cl["txn"])
			}
			if _, has := cl["sub"]; has {
				t.Error("a SET has a sub claim; SSF 1.0 forbids it")
			}
			if _, has := cl["exp"]; has {
				t.Error("a SET has an exp claim; SSF 1.0 forbids it")
			}
			if !reflect.DeepEqual(cl["sub_id"], tt.wantSubID) {
				t.Errorf("sub_id = %v, want %v", cl["sub_id"], tt.wantSubID)
			}
			iat, _ := cl["iat"].(float64)
			if int64(iat) < before || int64(iat) > time.Now().Unix() {
				t.Errorf("iat = %v, want now", cl["iat"])
			}
			events, _ := cl["events"].(map[string]any)
			ev, _ := events[sessionRv].(map[string]any)
			if len(events) != 1 || ev == nil {
				t.Fatalf("events = %v, want one session-revoked", cl["events"])
			}
			if ev["event_timestamp"] != cl["iat"] {
				t.Errorf("event_timestamp = %v, want the time of sending %v", ev["event_timestamp"], cl["iat"])
			}
			delete(ev, "event_timestamp")
			if !reflect.DeepEqual(ev, tt.wantEvent) {
				t.Errorf("event = %v\nwant %v", ev, tt.wantEvent)
			}
		})
	}
}
