package hibob

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on every
// path by which a hibob subject gets an email: employee.deleted's email and
// Resolve reading the person's email.
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	h := newTestHiBob(t, nil)
	conformance.Emails(t, []conformance.EmailPath{
		// Bob's employee.deleted carries the work email beside the employee
		// id. An unusable email is dropped and the id kept: the worker then
		// resolves the subject by id, so the field this path names is the id.
		{Name: "hibob employee.deleted", Field: "id-only subject hibob:" + hibobTestID, Run: func(t *testing.T, email string) ([]string, string) {
			body := conformance.Swap(t, hibobFile(t, "employee-deleted.json"), `"Jane.Roe@Example.com"`, string(conformance.JSONString(email)))
			r := hibobRequest(hibobTestSecret, body)
			r.Context = t.Context()
			if err := h.Verify(r); err != nil {
				t.Fatalf("verify: %v", err)
			}
			d, err := h.Parse(r)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(d.Events) != 1 || d.Events[0].IDs["hibob"] != hibobTestID {
				t.Fatalf("want one event of employee %s, got %+v", hibobTestID, d)
			}
			if ev := d.Events[0]; ev.Email == "" {
				return nil, "id-only subject hibob:" + ev.IDs["hibob"]
			}
			return conformance.DeliveryEmails(d, nil)
		}},
		{Name: "hibob Resolve root.email", Field: "has an unusable work email", Run: func(t *testing.T, email string) ([]string, string) {
			person, _ := json.Marshal(map[string]any{"id": hibobTestID, "email": email})
			srv := conformance.FakeSender(t, hibobRead(hibobTestID, http.StatusOK, nil, string(person)))
			h := newTestHiBob(t, hibobSettings(srv.URL))
			return conformance.ResolvedEmails(t)(h.Resolve(t.Context(), sources.Event{ID: "employee.left/" + hibobTestID + "@t", Type: EmployeeLeft,
				Reason: offboard.ReasonTerminated, IDs: map[string]string{"hibob": hibobTestID}}))
		}},
	})
}
