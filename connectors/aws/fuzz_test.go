package aws_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// answer is an http.RoundTripper that answers every request with one
// status and body, in memory.
type answer struct {
	status int
	body   []byte
}

func (a *answer) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Status: http.StatusText(a.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(string(a.body))), Request: r}, nil
}

// FuzzAWSError: whatever error body IAM (or a proxy before it) answers,
// the SDK's XML error reader and the connector's classifier give a
// *vendorapi.Error prefixed with the connector's name, of bounded length,
// without the secret key, and never panic; the seeds are in
// testdata/fuzz/FuzzAWSError.
func FuzzAWSError(f *testing.F) {
	credentials(f)
	f.Add(uint16(404), []byte(iamError("Sender", "NoSuchEntity", "The user with name isaac cannot be found.")))
	next := new(answer) // the answer of the iteration running; they run one at a time
	cs, err := connectors.Build([]connectors.Spec{{Name: "aws", Type: "aws", Settings: map[string]any{"base_url": "http://iam.invalid"}}},
		types, connectors.Deps{HTTPClient: &http.Client{Transport: next}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 400 + int(status)%200 // an error status, 400 to 599
		*next = answer{code, body}
		_, err := cs[0].Revoke(t.Context(), offboard.Subject{Email: email, Reason: offboard.ReasonTerminated})
		e, ok := errors.AsType[*vendorapi.Error](err)
		switch {
		case !ok:
			t.Fatalf("a %d answer gave %v (%T), want a *vendorapi.Error", code, err, err)
		case !strings.HasPrefix(e.Error(), "aws: ListUsers: "):
			t.Fatalf("error %q is not prefixed with the connector and the call", e)
		case len(e.Msg) > 600:
			t.Fatalf("%d bytes of message from a %d-byte body", len(e.Msg), len(body))
		case strings.Contains(e.Error(), awsSecret):
			t.Fatalf("error holds the secret key: %q", e)
		}
	})
}
