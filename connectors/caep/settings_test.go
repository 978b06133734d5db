package caep_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/caep"
	"github.com/offboarder/offboarder/connectors/conformance"
)

func TestCAEPSettings(t *testing.T) {
	ec, _, _ := keys(t)
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "receivers, issuer and signing_key are required",
		settings: map[string]any{},
		want:     []string{"(caep).receivers: required", "(caep).issuer: required", "(caep).signing_key: required"},
	}, {
		name: "an issuer with a path, a plain-http receiver, an unknown key, a bad subject_format are each named",
		settings: map[string]any{"issuer": "https://example.com/offboarder", "signing_key": ec, "receivers": []any{
			map[string]any{"url": "http://receiver.example.com/events", "token": token, "extra": 1},
			map[string]any{"url": "https://receiver.example.com/events", "subject_format": "opaque"},
		}},
		want: []string{
			"(caep).issuer: must be the public base URL where offboarder serves /.well-known/, without a path",
			"(caep).receivers[0].url: must be an https url",
			"(caep).receivers[0].extra: unknown key",
			"(caep).receivers[1].subject_format: want sub_id (SSF 1.0) or event_subject (Okta)",
		},
	}, {
		name: "a key that is not a private key, a small RSA key's words, and a duplicate key in the rotation list",
		settings: map[string]any{"issuer": issuer, "signing_key": []any{ec, "not a key", ec},
			"receivers": []any{map[string]any{"url": "https://r.example.com/e"}}},
		want: []string{"(caep).signing_key[1]: no PEM private key found", "(caep).signing_key[2]: the same key as signing_key[0]"},
	}, {
		name: "the same receiver twice is a duplicate",
		settings: map[string]any{"issuer": issuer, "signing_key": ec,
			"receivers": []any{map[string]any{"url": "https://r.example.com/e"}, map[string]any{"url": "https://r.example.com/e"}}},
		want: []string{"(caep).receivers[1].url: duplicate of receivers[0]"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "caep", tt.settings, tt.want, token, ec[40:80])
		})
	}
}

func TestCAEPPublish(t *testing.T) {
	ec1, ec2, rsa1 := keys(t)
	build := func(t *testing.T, specs ...connectors.Spec) []connectors.Connector {
		t.Helper()
		cs, err := connectors.Build(specs, types, connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	spec := func(name, iss string, key any) connectors.Spec {
		return connectors.Spec{Name: name, Type: "caep", Settings: map[string]any{"issuer": iss, "signing_key": key,
			"receivers": []any{map[string]any{"url": "https://r.example.com/" + name}}}}
	}
	t.Run("without a caep connector there is nothing to publish", func(t *testing.T) {
		if d, err := caep.Publish(nil); d != nil || err != nil {
			t.Fatalf("Publish = %v, %v", d, err)
		}
	})
	t.Run("every key of every caep connector is published once, with kid, alg and use", func(t *testing.T) {
		d, err := caep.Publish(build(t, spec("a", issuer, []any{ec1, rsa1}), spec("b", issuer, []any{ec2, ec1})))
		if err != nil {
			t.Fatal(err)
		}
		var ks struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(d.JWKS, &ks); err != nil {
			t.Fatal(err)
		}
		var algs []string
		for _, k := range ks.Keys {
			algs = append(algs, k["alg"].(string))
			if k["use"] != "sig" || k["kid"] == "" || k["d"] != nil {
				t.Errorf("key %v: want use sig, a kid and no private part", k)
			}
		}
		if strings.Join(algs, ",") != "ES256,RS256,ES256" {
			t.Errorf("algs = %v, want ES256,RS256,ES256", algs)
		}
		var m map[string]any
		if err := json.Unmarshal(d.Configuration, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"spec_version": "1_0", "issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json",
			"delivery_methods_supported": []any{"urn:ietf:rfc:8935"},
			"events_supported":           []any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked"}}
		if got, _ := json.Marshal(m); string(got) != mustJSON(want) {
			t.Errorf("metadata = %s\nwant %s", got, mustJSON(want))
		}
	})
	t.Run("a trailing slash on the issuer is kept in issuer and not doubled in jwks_uri", func(t *testing.T) {
		d, err := caep.Publish(build(t, spec("a", issuer+"/", ec1)))
		if err != nil || !strings.Contains(string(d.Configuration), `"issuer":"`+issuer+`/","jwks_uri":"`+issuer+`/.well-known/jwks.json"`) {
			t.Fatalf("metadata %s, %v", d.Configuration, err)
		}
	})
	t.Run("two caep connectors with different issuers cannot share /.well-known/", func(t *testing.T) {
		_, err := caep.Publish(build(t, spec("a", issuer, ec1), spec("b", "https://other.example.com", ec2)))
		if err == nil || !strings.Contains(err.Error(), "connectors a and b (caep): issuer differs") {
			t.Fatalf("err = %v", err)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
