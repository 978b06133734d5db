package hibob

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

func FuzzHiBobVerify(f *testing.F) {
	body := hibobFile(f, "employee-left.json")
	f.Add(hibobSignature(hibobTestSecret, body), body)
	f.Add("", []byte{})
	f.Add("AAAA", []byte("Ping test"))
	h := newTestHiBob(f, nil)
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		err := h.Verify(&sources.Request{Method: http.MethodPost, Body: body, Header: conformance.Headers(SignatureHeader, sig)})
		if err == nil {
			// Only the true HMAC-SHA512 of body may pass.
			got, derr := base64.StdEncoding.DecodeString(sig)
			if derr != nil {
				got, derr = base64.RawStdEncoding.DecodeString(sig)
			}
			m := hmac.New(sha512.New, []byte(hibobTestSecret))
			m.Write(body)
			if derr != nil || !bytes.Equal(got, m.Sum(nil)) {
				t.Fatalf("accepted a wrong signature %q", sig)
			}
			return
		}
		if !errors.Is(err, sources.ErrUnauthorized) {
			t.Fatalf("error not classified: %v", err)
		}
	})
}

func FuzzHiBobParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no hibob deliveries in testdata: %v", err)
	}
	for _, name := range files {
		if ext := filepath.Ext(name); ext != ".json" && ext != ".txt" {
			continue // the README and the fuzz seeds
		}
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"employee.deleted","data":{"employeeId":1,"email":"A@bücher.example"}}`))
	f.Add([]byte(`{"type":"employee.left","data":{"employeeId":null}}`))
	f.Add([]byte(`"Ping test"`))
	h := newTestHiBob(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body}
		if resp, ok := h.Handshake(r); ok && (resp == nil || resp.Status != http.StatusOK) {
			t.Fatalf("a handshake answered %+v", resp)
		}
		d, err := h.Parse(r)
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
		if len(d.Events) != 1 {
			t.Fatalf("one delivery is one event, got %d", len(d.Events))
		}
		ev := d.Events[0]
		if ev.ID == "" || len(ev.ID) > 200 || !sources.Printable(ev.ID) {
			t.Fatalf("bad event id: %+v", ev)
		}
		if hibobDefaultEvents[ev.Type] == "" || ev.Reason != hibobDefaultEvents[ev.Type] || len(ev.IDs) != 1 || !hibobIDRE.MatchString(ev.IDs["hibob"]) {
			t.Fatalf("event of an unmapped type, with the wrong reason or ids: %+v", ev)
		}
		if ev.Email != "" {
			again, err := sources.NormalizeEmail(ev.Email)
			if ev.Type != EmployeeDeleted || err != nil || again != ev.Email {
				t.Fatalf("email %q on %s, or not stable under normalisation", ev.Email, ev.Type)
			}
		}
	})
}

// BenchmarkHiBobVerifyParse measures what the webhook handler spends on an
// employee.left delivery: the ping check, the signature check and the parse.
func BenchmarkHiBobVerifyParse(b *testing.B) {
	src := newTestHiBob(b, nil)
	r := hibobRequest(hibobTestSecret, hibobFile(b, "employee-left.json"))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := src.Handshake(r); ok {
			b.Fatal("not a ping")
		}
		if err := src.Verify(r); err != nil {
			b.Fatal(err)
		}
		if d, err := src.Parse(r); err != nil || len(d.Events) != 1 {
			b.Fatal(d, err)
		}
	}
}
