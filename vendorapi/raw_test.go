package vendorapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRawBodyIsSentAsItIs(t *testing.T) {
	var gotType, gotBody string
	c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotType, gotBody = r.Header.Get("Content-Type"), string(b)
		w.WriteHeader(http.StatusAccepted)
	}), ClientOptions{})
	status, err := c.Do(t.Context(), Request{Method: "POST", Path: "/events", Raw: []byte("a.b.c"), ContentType: "application/secevent+jwt"}, nil)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("Do = %d, %v", status, err)
	}
	if gotType != "application/secevent+jwt" || gotBody != "a.b.c" {
		t.Fatalf("sent Content-Type %q body %q, want the raw body with its type", gotType, gotBody)
	}
}

func TestRefineDecidesFromTheBody(t *testing.T) {
	refine := func(status int, body []byte) (Kind, string, time.Duration, bool) {
		if strings.Contains(string(body), "retry_me") {
			return Transient, "the vendor asks for another try", time.Minute, true
		}
		return 0, "", 0, false
	}
	summary := func(b []byte) string { return string(b) }
	t.Run("a body the connector knows changes kind, reason and wait, and keeps the vendor's summary", func(t *testing.T) {
		c, _ := serve(t, answer(400, nil, "retry_me"), ClientOptions{Refine: refine, VendorError: summary})
		_, err := c.Do(t.Context(), Request{Method: "POST", Path: "/x"}, nil)
		e := err.(*Error)
		if e.Kind != Transient || e.RetryAfter != time.Minute || e.Status != 400 {
			t.Fatalf("error = %#v, want transient, 1m, status 400", e)
		}
		if want := `POST /x: the vendor asks for another try; vendor said "retry_me"`; e.Msg != want {
			t.Fatalf("Msg = %q, want %q", e.Msg, want)
		}
	})
	t.Run("a body it does not know keeps the shared classification", func(t *testing.T) {
		c, _ := serve(t, answer(400, nil, "other"), ClientOptions{Refine: refine})
		_, err := c.Do(t.Context(), Request{Method: "POST", Path: "/x"}, nil)
		if e := err.(*Error); e.Kind != Invalid || e.RetryAfter != 0 {
			t.Fatalf("error = %#v, want invalid", e)
		}
	})
}
