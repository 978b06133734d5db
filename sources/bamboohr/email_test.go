package bamboohr

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on the one
// path by which a bamboohr subject gets an email: Resolve reading the
// employee's workEmail.
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	conformance.Emails(t, []conformance.EmailPath{
		{Name: "bamboohr Resolve workEmail", Field: "has an unusable work email", Run: func(t *testing.T, email string) ([]string, string) {
			emp, _ := json.Marshal(map[string]any{"id": "67890", "workEmail": email, "status": "Inactive", "employmentHistoryStatus": "Terminated"})
			srv := conformance.FakeSender(t, bambooHRGet("67890", http.StatusOK, nil, string(emp)))
			b := newTestBambooHR(t, bambooHRSettings(srv.URL))
			return conformance.ResolvedEmails(t)(b.Resolve(t.Context(), sources.Event{ID: "67890@t", Type: EmployeeUpdated,
				Reason: offboard.ReasonTerminated, IDs: map[string]string{"bamboohr": "67890"}}))
		}},
	})
}
