package webhook

import (
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestClientsCannotGrowMetrics: every label in /metrics comes from a fixed
// set (route templates, standard methods or "other", configured source
// names, outcome words, status codes the server answers), never from a
// client. 1,000 requests with made-up methods (XQZT12 …) and made-up paths
// — unknown sources, case ids, dashboard and profile sub-paths, nonsense —
// leave the number of series where a first round of each kind of request
// put it, and no label value holds anything a client sent.
func TestClientsCannotGrowMetrics(t *testing.T) {
	s := startSurface(t)
	rng := rand.New(rand.NewPCG(12, 12))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alnum[rng.IntN(len(alnum))]
		}
		return string(b)
	}
	method := func() string { // a valid HTTP token, never a standard method
		for {
			if m := word(3 + rng.IntN(8)); methodLabel(m) == "other" {
				return m
			}
		}
	}
	kinds := []func(string) string{
		func(r string) string { return "/healthz" },
		func(r string) string { return "/webhooks/" + r },
		func(r string) string { return "/webhooks/hr" },
		func(r string) string { return "/v1/cases/" + r },
		func(r string) string { return "/monitoring/api/" + r },
		func(r string) string { return "/debug/pprof/" + r },
		func(r string) string { return "/" + r + "/" + r },
	}
	var sent []string // the made-up methods and path segments
	client := &http.Client{}
	do := func(m string, kind func(string) string, r string) {
		t.Helper()
		sent = append(sent, r)
		if methodLabel(m) == "other" {
			sent = append(sent, m)
		}
		path := kind(r)
		req, err := http.NewRequestWithContext(t.Context(), m, s.url+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	series := func() (int, []string) {
		t.Helper()
		mfs, err := s.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var values []string
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				n++
				for _, l := range m.GetLabel() {
					values = append(values, l.GetValue())
				}
			}
		}
		return n, values
	}

	// The first round: each kind of request once with a made-up method and
	// once with each method the routes answer.
	for _, kind := range kinds {
		for _, m := range []string{method(), http.MethodGet, http.MethodPost} {
			do(m, kind, strings.ToLower(word(8)))
		}
	}
	before, _ := series()
	for range 1000 {
		m := method()
		if rng.IntN(5) == 0 {
			m = []string{http.MethodGet, http.MethodPost}[rng.IntN(2)]
		}
		do(m, kinds[rng.IntN(len(kinds))], strings.ToLower(word(4+rng.IntN(12))))
	}
	after, values := series()
	if after != before {
		t.Errorf("1,000 requests with made-up methods and paths took /metrics from %d to %d series", before, after)
	}
	for _, v := range values {
		for _, w := range sent {
			if v == w || strings.Contains(v, "/"+w) {
				t.Errorf("a label value came from a client: %q", v)
			}
		}
	}
	if _, values := series(); !slices.Contains(values, "other") || !slices.Contains(values, "unmatched") {
		t.Errorf("want the made-up methods counted as other on route unmatched, labels: %q", values)
	}
}

func TestMethodLabel(t *testing.T) {
	for m, want := range map[string]string{
		"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH", "DELETE": "DELETE",
		"OPTIONS": "OPTIONS", "CONNECT": "CONNECT", "TRACE": "TRACE",
		"get": "other", "XQZT12": "other", "PROPFIND": "other", "": "other",
	} {
		if got := methodLabel(m); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", m, got, want)
		}
	}
}
