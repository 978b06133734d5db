package google

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// FuzzGoogleVerifyParse runs the handler's work on any channel token,
// channel id, resource state and body: Handshake, Verify, and Parse when
// Verify accepts. None may panic; every refusal is classified; only the
// configured token on a channel id of the source's form gets through; what
// is accepted became well-formed events or an ignored delivery. Seeds:
// testdata and testdata/fuzz/FuzzGoogleVerifyParse.
func FuzzGoogleVerifyParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no activities in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(googleToken, googleChannel1, "SUSPEND_USER", b)
	}
	f.Add(googleToken, googleChannel1, "sync", []byte{})
	f.Add("398348u3tu83ut8uu38", "reportsApiId", "CREATE_USER", googleFile(f, "create-user.json"))
	g := newTestGoogle(f, nil)
	f.Fuzz(func(t *testing.T, token, channelID, state string, body []byte) {
		h := http.Header{}
		h.Set(ChannelTokenHeader, token)
		h.Set(ChannelIDHeader, channelID)
		h.Set(ResourceStateHeader, state)
		r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Header: h, Body: body}
		if resp, ok := g.Handshake(r); ok {
			if resp.Status != http.StatusOK && resp.Status != http.StatusUnauthorized {
				t.Fatalf("handshake status %d", resp.Status)
			}
			return
		}
		if err := g.Verify(r); err != nil {
			if !errors.Is(err, sources.ErrUnauthorized) {
				t.Fatalf("Verify: unclassified error %v", err)
			}
			return
		}
		if h.Get(ChannelTokenHeader) != googleToken || !googleChannelIDRE.MatchString(h.Get(ChannelIDHeader)) {
			t.Fatalf("Verify accepted token %q on channel %q", token, channelID)
		}
		d, err := g.Parse(r)
		if err != nil {
			if !errors.Is(err, sources.ErrMalformed) {
				t.Fatalf("Parse: unclassified error %v", err)
			}
			return
		}
		if len(d.Events) == 0 && d.Ignored == "" {
			t.Fatal("no events and no reason to ignore")
		}
		seen := map[string]bool{}
		for _, ev := range d.Events {
			if ev.ID == "" || len(ev.ID) > 200 || !sources.Printable(ev.ID) || seen[ev.ID] {
				t.Fatalf("bad or repeated event id %q", ev.ID)
			}
			seen[ev.ID] = true
			if n, err := sources.NormalizeEmail(ev.Email); err != nil || n != ev.Email {
				t.Fatalf("email %q is not normalised", ev.Email)
			}
			if !offboard.Reason(ev.Reason).Valid() || g.events[ev.Type] != ev.Reason || ev.IDs != nil {
				t.Fatalf("bad event %+v", ev)
			}
		}
	})
}

// BenchmarkGoogleVerifyParse is the handler's work on one notification of
// a documentation-shaped suspension: Verify, then Parse.
func BenchmarkGoogleVerifyParse(b *testing.B) {
	g := newTestGoogle(b, nil)
	body := googleFile(b, "suspend-user.json")
	r := &sources.Request{Context: b.Context(), Method: http.MethodPost, Header: googleHeaders("SUSPEND_USER"), Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Verify(r); err != nil {
			b.Fatal(err)
		}
		if d, err := g.Parse(r); err != nil || len(d.Events) != 1 {
			b.Fatalf("%+v, %v", d, err)
		}
	}
}

// BenchmarkGoogleParseBusyActivity parses an activity of ten events, five
// of them suspensions of different users.
func BenchmarkGoogleParseBusyActivity(b *testing.B) {
	g := newTestGoogle(b, nil)
	var evs [][2]string
	for i := range 5 {
		evs = append(evs, [2]string{"SUSPEND_USER", fmt.Sprintf("user%d@example.com", i)}, [2]string{"CHANGE_PASSWORD", fmt.Sprintf("user%d@example.com", i)})
	}
	body := googleActivityJSON("2026-03-10T18:23:35.808Z", `"-0987654321"`, evs...)
	r := &sources.Request{Context: b.Context(), Method: http.MethodPost, Header: googleHeaders("SUSPEND_USER"), Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if d, err := g.Parse(r); err != nil || len(d.Events) != 5 || !strings.Contains(d.Events[0].ID, "SUSPEND_USER") {
			b.Fatalf("%+v, %v", d, err)
		}
	}
}
