package bamboohr

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

func FuzzBambooHRVerify(f *testing.F) {
	body := bambooHRFile(f, "event-terminated.json")
	ts := unix(bambooHRTestNow)
	f.Add(bambooHRSignature(bambooHRTestSecret, body, ts), ts, body)
	f.Add(bambooHRSignature(bambooHRTestSecret, body, "2026-02-01T12:01:00+0000"), "2026-02-01T12:01:00+0000", body)
	f.Add("", "", []byte{})
	f.Add(strings.Repeat("0", 64), "-1", []byte("x"))
	b := newTestBambooHR(f, nil)
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		err := b.Verify(&sources.Request{Method: http.MethodPost, Body: body, Header: conformance.Headers(SignatureHeader, sig, TimestampHeader, ts)})
		if err == nil {
			// Only the true HMAC of body ‖ ts, at a time inside the
			// tolerance, may pass.
			if !strings.EqualFold(sig, bambooHRSignature(bambooHRTestSecret, body, ts)) {
				t.Fatalf("accepted a wrong signature %q for ts %q", sig, ts)
			}
			at, ok := parseBambooHRTimestamp(ts)
			if d := bambooHRTestNow.Sub(at); !ok || d > sources.DefaultTolerance || d < -sources.DefaultTolerance {
				t.Fatalf("accepted timestamp %q outside the tolerance", ts)
			}
			return
		}
		if !errors.Is(err, sources.ErrUnauthorized) {
			t.Fatalf("error not classified: %v", err)
		}
		if strings.Contains(err.Error(), bambooHRTestSecret) {
			t.Fatalf("error text holds the secret: %v", err)
		}
	})
}

func FuzzBambooHRParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no bamboohr deliveries in testdata: %v", err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"employees":[{"id":5,"action":"updated","changedFields":["Status"],"fields":{"Status":{"value":"Inactive"}}}]}`))
	f.Add([]byte(`{"type":"employee.updated","data":{"employeeId":1,"changedFields":["terminationDate"]}}`))
	f.Add([]byte(`{"employees":null,"type":null}`))
	f.Add([]byte(`[]`))
	b := newTestBambooHR(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := b.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
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
			if ev.Email != "" || ev.Reason != offboard.ReasonTerminated || len(ev.IDs) != 1 || !bambooHRIDRE.MatchString(ev.IDs["bamboohr"]) {
				t.Fatalf("not an id-only termination: %+v", ev)
			}
			if ev.Type != EmployeeUpdated && ev.Type != FieldBasedUpdated {
				t.Fatalf("unexpected type: %+v", ev)
			}
		}
	})
}

// BenchmarkBambooHRVerifyParse measures what the webhook handler spends on a
// field-based delivery of two employee changes: the signature check and the
// parse.
func BenchmarkBambooHRVerifyParse(b *testing.B) {
	src := newTestBambooHR(b, nil)
	r := bambooHRRequest(bambooHRTestSecret, bambooHRFile(b, "field-terminated.json"), unix(bambooHRTestNow))
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Verify(r); err != nil {
			b.Fatal(err)
		}
		if d, err := src.Parse(r); err != nil || len(d.Events) != 1 {
			b.Fatal(d, err)
		}
	}
}
