package okta

import (
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/offboarder/offboarder/simulator/fake"
)

// oktaError is Okta's Error object; it is also the Go error of a failed call.
// https://developer.okta.com/docs/reference/error-codes/
type oktaError struct {
	status       int
	ErrorCode    string      `json:"errorCode"`
	ErrorSummary string      `json:"errorSummary"`
	ErrorLink    string      `json:"errorLink"`
	ErrorID      string      `json:"errorId"`
	ErrorCauses  []oktaCause `json:"errorCauses"`
}

type oktaCause struct {
	ErrorSummary string `json:"errorSummary"`
}

func (e *oktaError) Error() string { return e.ErrorCode + ": " + e.ErrorSummary }

func oktaErr(status int, code, summary string, causes ...string) *oktaError {
	e := &oktaError{status: status, ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorCauses: []oktaCause{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, oktaCause{ErrorSummary: c})
	}
	return e
}

func oktaNotFound(id string) *oktaError {
	return oktaErr(http.StatusNotFound, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (User)", id))
}

// oktaFail writes err (an *oktaError) with a fresh errorId like Okta's
// ("oae" and 22 more characters).
func oktaFail(w http.ResponseWriter, err error) {
	e, ok := err.(*oktaError)
	if !ok {
		e = oktaErr(http.StatusInternalServerError, "E0000009", "Internal Server Error")
	}
	id := []byte("oae")
	for range 22 {
		id = append(id, oktaErrIDText[rand.IntN(len(oktaErrIDText))])
	}
	e.ErrorID = string(id)
	fake.WriteJSON(w, e.status, e)
}
