package store

import (
	"testing"
	"time"
)

func TestSubjectEventSince(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	const user = "3f2a0c9e-5b1d-4c6a-9e8f-0a1b2c3d4e5f"
	seed := func(t *testing.T, s *Store) {
		t.Helper()
		for _, ev := range []Event{
			{Source: "entra", EventID: "push-1", Type: "updated", SubjectIDs: map[string]string{"entra": user}, Reason: "deactivated", ReceivedAt: t0},
			{Source: "hr", EventID: "h1", Type: "terminated", Email: "Ann@Example.com", Reason: "terminated", ReceivedAt: t0},
			{Source: "odd", EventID: "o1", Type: "x", SubjectIDs: map[string]string{"a_b": "x%y"}, Reason: "terminated", ReceivedAt: t0},
		} {
			if _, err := s.Ingest(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	runStoreTests(t, []storeTest{
		{"an event of the source about the subject since then is found", func(t *testing.T, s *Store) {
			seed(t, s)
			for _, q := range []struct {
				source, email string
				ids           map[string]string
			}{
				{"entra", "", map[string]string{"entra": user}},
				{"hr", "ann@example.com", nil},
				{"hr", " ANN@example.com", map[string]string{"hr": "E1"}},
				{"odd", "", map[string]string{"a_b": "x%y"}},
			} {
				if ok, err := s.SubjectEventSince(t.Context(), q.source, q.email, q.ids, t0); err != nil || !ok {
					t.Errorf("%+v: %v, %v; want found", q, ok, err)
				}
			}
		}},
		{"another source, subject or an earlier event is not", func(t *testing.T, s *Store) {
			seed(t, s)
			for _, q := range []struct {
				source, email string
				ids           map[string]string
				since         time.Time
			}{
				{"entra", "", map[string]string{"entra": user}, t0.Add(time.Microsecond)},
				{"hr", "", map[string]string{"entra": user}, t0},
				{"entra", "", map[string]string{"entra": "3f2a0c9e-5b1d-4c6a-9e8f-0a1b2c3d4e50"}, t0},
				{"odd", "", map[string]string{"aXb": "xZy"}, t0}, // LIKE wildcards are literal
				{"entra", "", nil, t0},
			} {
				if ok, err := s.SubjectEventSince(t.Context(), q.source, q.email, q.ids, q.since); err != nil || ok {
					t.Errorf("%+v: %v, %v; want not found", q, ok, err)
				}
			}
		}},
	})
}
