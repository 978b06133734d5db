package bamboohr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

const (
	bambooHRTestSecret = "bamboo-private-key-0123456789abcdef"
	bambooHRTestKey    = "bamboo-api-key-0123456789"
)

// bambooHRTestNow is the clock of the bamboohr tests.
var bambooHRTestNow = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

func bambooHRSettings(base string) map[string]any {
	s := map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": bambooHRTestKey}
	if base != "" {
		s["base_url"] = base
	}
	return s
}

// newTestBambooHR builds a bamboohr source from settings (nil: the test
// settings without a base_url) on the test clock.
func newTestBambooHR(t testing.TB, settings map[string]any) *Source {
	t.Helper()
	if settings == nil {
		settings = bambooHRSettings("")
	}
	srcs, err := build([]sources.Spec{{Name: "hr", Type: "bamboohr", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	b := srcs[0].(*Source)
	b.now = func() time.Time { return bambooHRTestNow }
	return b
}

func bambooHRFile(t testing.TB, name string) []byte {
	t.Helper()
	return testdataFile(t, name)
}

// bambooHRSignature computes X-BambooHR-Signature as BambooHR's PHP sample
// does, hash_hmac('sha256', $body . $timestamp, $privateKey): lower-case hex.
// https://documentation.bamboohr.com/docs/webhooks
func bambooHRSignature(key string, body []byte, ts string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(string(body) + ts))
	return hex.EncodeToString(m.Sum(nil))
}

// bambooHRRequest is a delivery of body signed with key at ts.
func bambooHRRequest(key string, body []byte, ts string) *sources.Request {
	return &sources.Request{Method: http.MethodPost, Body: body, Header: conformance.Headers(
		SignatureHeader, bambooHRSignature(key, body, ts),
		TimestampHeader, ts,
		"Content-Type", "application/json",
	)}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestBambooHRVerify(t *testing.T) {
	body := bambooHRFile(t, "event-terminated.json")
	now := unix(bambooHRTestNow)
	good := bambooHRRequest(bambooHRTestSecret, body, now)
	with := func(r *sources.Request, edit func(*sources.Request)) *sources.Request {
		c := *r
		c.Header = r.Header.Clone()
		edit(&c)
		return &c
	}
	rotating := newTestBambooHR(t, map[string]any{"secret": []any{bambooHRTestSecret, "next-private-key-0123456789abcdef"}, "company_domain": "acme", "api_key": bambooHRTestKey})
	strict := newTestBambooHR(t, map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": bambooHRTestKey, "tolerance": "1m"})
	def := newTestBambooHR(t, nil)
	tests := []struct {
		name string
		src  *Source
		req  *sources.Request
		ok   bool
	}{
		{"a signature over the body and a Unix timestamp is accepted", def, good, true},
		{"an ISO 8601 timestamp is accepted", def, bambooHRRequest(bambooHRTestSecret, body, "2026-02-01T11:59:00+0000"), true},
		{"an upper-case hex signature is accepted", def, with(good, func(r *sources.Request) {
			r.Header.Set(SignatureHeader, strings.ToUpper(r.Header.Get(SignatureHeader)))
		}), true},
		{"a timestamp just inside the tolerance is accepted", def, bambooHRRequest(bambooHRTestSecret, body, unix(bambooHRTestNow.Add(-4*time.Minute))), true},
		{"the second of two secrets is accepted during a rotation", rotating, bambooHRRequest("next-private-key-0123456789abcdef", body, now), true},
		{"a missing signature is refused", def, with(good, func(r *sources.Request) { r.Header.Del(SignatureHeader) }), false},
		{"a missing timestamp is refused", def, with(good, func(r *sources.Request) { r.Header.Del(TimestampHeader) }), false},
		{"two signatures are refused", def, with(good, func(r *sources.Request) { r.Header.Add(SignatureHeader, r.Header.Get(SignatureHeader)) }), false},
		{"a changed body is refused", def, with(good, func(r *sources.Request) { r.Body = append([]byte(" "), body...) }), false},
		{"a changed timestamp is refused", def, with(good, func(r *sources.Request) {
			r.Header.Set(TimestampHeader, unix(bambooHRTestNow.Add(time.Second)))
		}), false},
		{"a wrong secret is refused", def, bambooHRRequest("wrong-private-key-0123456789abcdef", body, now), false},
		{"a signature over the timestamp before the body is refused", def, with(good, func(r *sources.Request) {
			m := hmac.New(sha256.New, []byte(bambooHRTestSecret))
			m.Write([]byte(now + string(body)))
			r.Header.Set(SignatureHeader, hex.EncodeToString(m.Sum(nil)))
		}), false},
		{"a signature of the body alone is refused", def, bambooHRRequest(bambooHRTestSecret, body, ""), false},
		{"a stale timestamp is refused", def, bambooHRRequest(bambooHRTestSecret, body, unix(bambooHRTestNow.Add(-6*time.Minute))), false},
		{"a timestamp from the future is refused", def, bambooHRRequest(bambooHRTestSecret, body, unix(bambooHRTestNow.Add(6*time.Minute))), false},
		{"a configured tolerance of 1m refuses a 2m old timestamp", strict, bambooHRRequest(bambooHRTestSecret, body, unix(bambooHRTestNow.Add(-2*time.Minute))), false},
		{"a garbage timestamp is refused", def, bambooHRRequest(bambooHRTestSecret, body, "yesterday"), false},
		{"a sha256= prefix is refused", def, with(good, func(r *sources.Request) {
			r.Header.Set(SignatureHeader, "sha256="+r.Header.Get(SignatureHeader))
		}), false},
		{"a truncated signature is refused", def, with(good, func(r *sources.Request) {
			r.Header.Set(SignatureHeader, r.Header.Get(SignatureHeader)[:62])
		}), false},
		{"a base64 signature is refused", def, with(good, func(r *sources.Request) {
			sig, _ := hex.DecodeString(r.Header.Get(SignatureHeader))
			r.Header.Set(SignatureHeader, base64.StdEncoding.EncodeToString(sig))
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.src.Verify(tt.req)
			if tt.ok {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, sources.ErrUnauthorized) {
				t.Fatalf("want ErrUnauthorized, got %v", err)
			}
			if !strings.HasPrefix(err.Error(), "bamboohr: ") {
				t.Errorf("error not prefixed with the source type: %v", err)
			}
			for _, secret := range []string{bambooHRTestSecret, bambooHRTestKey, tt.req.Header.Get(SignatureHeader)} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatalf("error text holds a secret or the signature: %v", err)
				}
			}
		})
	}
}

func TestBambooHRParse(t *testing.T) {
	b := newTestBambooHR(t, nil)
	event := func(id, typ, key string) sources.Event {
		return sources.Event{ID: key, Type: typ, Reason: offboard.ReasonTerminated, IDs: map[string]string{"bamboohr": id}}
	}
	many := `{"employees":[` + strings.Repeat(`{"id":"1","action":"Updated"},`, MaxEmployees) + `{"id":"1"}]}`
	tests := []struct {
		name    string
		body    []byte
		want    []sources.Event
		ignored string // a part of Delivery.Ignored
		wantErr string // a part of the malformed error
	}{
		{name: "an event-based termination is one id-only event", body: bambooHRFile(t, "event-terminated.json"),
			want: []sources.Event{event("67890", EmployeeUpdated, "67890@2026-01-31T18:42:00+0000")}},
		{name: "an event-based name change is ignored, naming the field", body: bambooHRFile(t, "event-name-changed.json"), ignored: "firstName"},
		{name: "a created employee is ignored", body: bambooHRFile(t, "event-created.json"), ignored: "employee.created"},
		{name: "a deleted employee is ignored", body: bambooHRFile(t, "event-deleted.json"), ignored: "employee.deleted"},
		{name: "a field-based batch gives an event for the terminated employee only", body: bambooHRFile(t, "field-terminated.json"),
			want: []sources.Event{event("12345", FieldBasedUpdated, "12345@2026-01-31T18:42:00+0000")}},
		{name: "a rehire is not a termination", body: bambooHRFile(t, "field-rehired.json"), ignored: "employee 12345: no termination"},
		{name: "aliases and a numeric id are understood", body: bambooHRFile(t, "field-aliases.json"),
			want: []sources.Event{event("12347", FieldBasedUpdated, "12347@2026-01-31T18:42:00+0000")}},
		{name: "created and deleted entries are skipped", body: bambooHRFile(t, "field-created-deleted.json"), ignored: `action "Deleted"`},
		{name: "a changed status whose value is not posted is an event", body: []byte(`{"employees":[{"id":"5","action":"Updated","timestamp":"t1","changedFields":["Status"],"fields":{"First Name":"A"}}]}`),
			want: []sources.Event{event("5", FieldBasedUpdated, "5@t1")}},
		{name: "a value posted as an object is read", body: []byte(`{"employees":[{"id":"5","action":"Updated","timestamp":"t1","changedFields":["Status"],"fields":{"Status":{"value":"Inactive"}}}]}`),
			want: []sources.Event{event("5", FieldBasedUpdated, "5@t1")}},
		{name: "an emptied termination date is not a termination", body: []byte(`{"employees":[{"id":"5","action":"Updated","timestamp":"t1","changedFields":["Termination Date"],"fields":{"Termination Date":null}}]}`),
			ignored: "no termination"},
		{name: "the same change twice in a batch is one event", body: []byte(`{"employees":[{"id":"5","action":"Updated","timestamp":"t1","changedFields":["status"]},{"id":"5","action":"Updated","timestamp":"t1","changedFields":["status"]}]}`),
			want: []sources.Event{event("5", FieldBasedUpdated, "5@t1")}},
		{name: "an unusable entry is skipped and the rest kept", body: []byte(`{"employees":[{"id":{"x":1}},7,{"id":"5","action":"Updated","timestamp":"t1","changedFields":["status"]}]}`),
			want: []sources.Event{event("5", FieldBasedUpdated, "5@t1")}},
		{name: "employee id 0 (the API key's own record) is skipped", body: []byte(`{"employees":[{"id":"0","action":"Updated","timestamp":"t1","changedFields":["status"]}]}`),
			ignored: "no usable employee id"},
		{name: "an empty batch is ignored", body: []byte(`{"employees":[]}`), ignored: "no employees"},
		{name: "an unknown event type is ignored", body: []byte(`{"type":"employee.hired","data":{"employeeId":"1"}}`), ignored: `"employee.hired"`},
		{name: "an empty body is malformed", body: []byte(" \n"), wantErr: "empty body"},
		{name: "a posted value's key in another case is malformed", body: []byte(`{"employees":[{"id":"5","action":"Updated","timestamp":"t1","changedFields":["Status"],"fields":{"Status":{"Value":"Inactive"}}}]}`),
			wantErr: `employees[0]: key "fields.Status.Value" is not "value"`},
		{name: "an entry's key in another case is malformed", body: []byte(`{"employees":[{"ID":"5","action":"Updated","timestamp":"t1","changedFields":["Status"],"fields":{}}]}`),
			wantErr: `employees[0]: key "ID" is not "id"`},
		{name: "a field posted twice is malformed", body: []byte(`{"employees":[{"id":"5","action":"Updated","timestamp":"t1","changedFields":["Status"],"fields":{"Status":"Active","Status":"Inactive"}}]}`),
			wantErr: `duplicate key "employees[0].fields.Status"`},
		{name: "a form-encoded body is malformed and says to choose JSON", body: []byte("type=employee.updated&data[employeeId]=67890"), wantErr: "choose the JSON format"},
		{name: "a JSON array is malformed", body: []byte(`[]`), wantErr: "wrong JSON type"},
		{name: "neither format is malformed", body: []byte(`{"hello":"world"}`), wantErr: "want employees"},
		{name: "an update without data is malformed", body: []byte(`{"type":"employee.updated"}`), wantErr: "data: required"},
		{name: "an update with employee id 0 is malformed", body: []byte(`{"type":"employee.updated","data":{"employeeId":"0","changedFields":["status"]}}`), wantErr: "data.employeeId"},
		{name: "changedFields that are not strings are malformed", body: []byte(`{"type":"employee.updated","data":{"employeeId":"1","changedFields":[1]}}`), wantErr: "changedFields"},
		{name: "a batch over the limit is malformed", body: []byte(many), wantErr: "more than 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := b.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: tt.body})
			if tt.wantErr != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "bamboohr: ") {
					t.Fatalf("want a bamboohr malformed error with %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.ignored != "" {
				if len(d.Events) != 0 || !strings.Contains(d.Ignored, tt.ignored) {
					t.Fatalf("want ignored with %q, got %+v", tt.ignored, d)
				}
				return
			}
			if fmt.Sprint(d.Events) != fmt.Sprint(tt.want) || d.Ignored != "" {
				t.Fatalf("events:\n got %+v\nwant %+v", d, tt.want)
			}
		})
	}
}

func TestBambooHREventIDWithoutTimestampIsStable(t *testing.T) {
	b := newTestBambooHR(t, nil)
	body := []byte(`{"employees":[{"id":"5","action":"Updated","changedFields":["status"]}]}`)
	var ids []string
	for range 2 {
		d, err := b.Parse(&sources.Request{Context: t.Context(), Body: body})
		if err != nil || len(d.Events) != 1 {
			t.Fatalf("got %+v, %v", d, err)
		}
		ids = append(ids, d.Events[0].ID)
	}
	if ids[0] != ids[1] || !strings.HasPrefix(ids[0], "5#") {
		t.Fatalf("ids %q: want one stable hash key", ids)
	}
	other, _ := b.Parse(&sources.Request{Context: t.Context(), Body: []byte(`{"employees":[{"id":"5","action":"Updated","changedFields":["Status"]}]}`)})
	if other.Events[0].ID == ids[0] {
		t.Fatal("another change got the same key")
	}
}

func TestBambooHRConfig(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{
		{"every missing key is named", map[string]any{}, []string{
			"sources[0] (hr).secret: required", "sources[0] (hr).company_domain: required", "sources[0] (hr).api_key: required"}},
		{"a short secret is refused", map[string]any{"secret": "short", "company_domain": "acme", "api_key": bambooHRTestKey},
			[]string{".secret: too short"}},
		{"a full host as company_domain is refused", map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme.bamboohr.com", "api_key": bambooHRTestKey},
			[]string{".company_domain: want the subdomain only"}},
		{"an api key with a colon is refused", map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": "abc:def"},
			[]string{".api_key: must be printable"}},
		{"a base_url that is not http is refused", map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": bambooHRTestKey, "base_url": "ftp://acme.example"},
			[]string{"sources[0] (hr).base_url: must be an http or https url"}},
		{"a tolerance over an hour is refused", map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": bambooHRTestKey, "tolerance": "2h"},
			[]string{".tolerance: want a duration between 1s and 1h"}},
		{"an unknown key is refused by name", map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": bambooHRTestKey, "token": "x"},
			[]string{`sources[0] (hr).token: unknown key (known: api_key, base_url, company_domain, secret, tolerance)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build([]sources.Spec{{Name: "hr", Type: "bamboohr", Settings: tt.settings}})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, secret := range []string{bambooHRTestSecret, bambooHRTestKey, "abc:def", "short"} {
				if strings.Contains(err.Error(), secret) && !strings.Contains(err.Error(), "too short") {
					t.Errorf("error text holds a configured value: %v", err)
				}
			}
		})
	}
}

func TestBambooHRIsAnIDOnlySource(t *testing.T) {
	var src sources.Source = newTestBambooHR(t, nil)
	if src.Type() != "bamboohr" || src.Name() != "hr" {
		t.Fatalf("type %q, name %q", src.Type(), src.Name())
	}
	if _, ok := src.Handshake(&sources.Request{Method: http.MethodGet}); ok {
		t.Fatal("bamboohr has no handshake")
	}
	if _, ok := src.(sources.Resolver); !ok {
		t.Fatal("bamboohr must resolve its id-only events")
	}
}
