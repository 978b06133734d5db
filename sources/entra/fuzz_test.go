package entra

import (
	"encoding/json"
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

// FuzzEntraVerifyParse runs the handler's work on any body: Verify, and
// Parse when Verify accepts. Neither may panic; every refusal is classified;
// whatever is accepted became well-formed id-only events or an ignored
// delivery. Seeds: testdata and testdata/fuzz/FuzzEntraVerifyParse.
func FuzzEntraVerifyParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no deliveries in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := newTestEntra(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body}
		if err := e.Verify(r); err != nil {
			if !errors.Is(err, sources.ErrUnauthorized) {
				t.Fatalf("Verify: unclassified error %v", err)
			}
			return
		}
		var states entraClientStates
		if json.Unmarshal(body, &states) != nil || len(states.Value) == 0 {
			t.Fatalf("Verify accepted a body that is not a collection: %q", body)
		}
		for _, item := range states.Value {
			if item.ClientState == nil || *item.ClientState != entraClientState {
				t.Fatalf("Verify accepted an item without the client state: %q", body)
			}
		}
		d, err := e.Parse(r)
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
			id := ev.IDs["entra"]
			if !entraGUIDRE.MatchString(id) || id != strings.ToLower(id) || len(ev.IDs) != 1 {
				t.Fatalf("bad subject ids %v", ev.IDs)
			}
			if ev.Email != "" || !offboard.Reason(ev.Reason).Valid() || (ev.Type != "updated" && ev.Type != "deleted") {
				t.Fatalf("bad event %+v", ev)
			}
		}
	})
}

// BenchmarkEntraVerifyParse is the handler's work on a delivery of ten
// documentation-shaped user notifications: Verify, then Parse.
func BenchmarkEntraVerifyParse(b *testing.B) {
	e := newTestEntra(b, nil)
	items := make([]string, 10)
	for i := range items {
		items[i] = entraItem(entraClientState, "updated", fmt.Sprintf("87d349ed-44d7-43e1-9a83-%012d", i), 638447365230137400+i)
	}
	body := entraBatch(items...)
	r := &sources.Request{Context: b.Context(), Method: http.MethodPost, Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Verify(r); err != nil {
			b.Fatal(err)
		}
		if d, err := e.Parse(r); err != nil || len(d.Events) != 10 {
			b.Fatalf("%d events, %v", len(d.Events), err)
		}
	}
}
