package httpcall

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	cc, err := c.compile()
	if err != nil {
		return nil, err
	}
	if d.HTTPClient == nil {
		d.HTTPClient = vendorapi.NewHTTPClient()
	}
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		return nil, vendorapi.KeyErr("base_url", err)
	}
	var secrets []string
	for _, v := range c.Headers {
		secrets = append(secrets, secretPieces(string(v))...)
	}
	return &Connector{
		name: name, base: c.BaseURL, deps: d, req: cc, pathText: c.Path,
		success: c.successCodes(), notFound: c.notFoundCodes(),
		disables: c.Disables, disableFor: c.DisableFor, secrets: secrets,
	}, nil
}

// Connector sends one templated request per subject to an in-house app.
// It has no Check: no request of the app is known to be a harmless read.
type Connector struct {
	name       string
	base       string
	deps       connectors.Deps
	req        *compiled
	pathText   string // the path template as configured, for the detail
	success    []int
	notFound   []int
	disables   bool
	disableFor connectors.DisableFor
	secrets    []string // the headers' configured text, in pieces
}

var _ connectors.Connector = (*Connector)(nil)

// Name returns the configured connector name.
func (h *Connector) Name() string { return h.name }

// Revoke fills in the request for s and sends it once to base_url. A
// success code is Acknowledged (the app took it; nothing is read back), a
// not-found code NotFound; any other answer is classified by the shared
// vendorapi rules (429 and 5xx retryable, 401/403 auth, other 4xx
// invalid; a 2xx outside success_codes is invalid too). A subject whose
// templates cannot be filled in (an id it lacks, an empty path value) is
// an invalid error naming the key, and nothing is sent. With disables:
// true and a reason outside disable_for, nothing is sent and the outcome
// is Skipped.
//
// Revoke must be idempotent, and so must the app's endpoint: asynq may
// send the request again after a lapsed lease.
func (h *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	what := h.req.method + " " + h.pathText
	if h.disables && !h.disableFor.Allows(s.Reason) {
		connectors.Report(ctx, "%s", h.disableFor.Skipped("request "+what+" not sent (it disables the account)", s.Reason))
		return offboard.Skipped, nil
	}
	b, err := h.req.request(s)
	if err != nil {
		return "", &vendorapi.Error{System: h.name, Kind: vendorapi.Invalid, Msg: "cannot fill in the request for this subject", Err: err}
	}
	secrets := slices.Clone(h.secrets)
	for _, v := range b.header {
		secrets = append(secrets, secretPieces(v[0])...)
	}
	api, err := vendorapi.NewClient(h.name, h.base, h.deps.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(hd http.Header) { setAll(hd, b.header) },
		VendorError: readError,
		Secrets:     secrets,
		Logger:      h.deps.Logger,
	})
	if err != nil {
		return "", err
	}
	r := vendorapi.Request{Method: h.req.method, Path: b.path, Query: b.query}
	if b.body != nil {
		r.Body = b.body
	}
	status, err := api.Do(ctx, r, nil)
	switch {
	case status != 0 && slices.Contains(h.success, status):
		connectors.Report(ctx, "request %s answered %d: taken by the app; what it ends is the app's to say, and nothing was read back", what, status)
		return offboard.Acknowledged, nil
	case status != 0 && slices.Contains(h.notFound, status):
		connectors.Report(ctx, "request %s answered %d: the app has no such person", what, status)
		return offboard.NotFound, nil
	case err != nil:
		return "", err
	}
	return "", &vendorapi.Error{System: h.name, Kind: vendorapi.Invalid, Status: status,
		Msg: h.req.method + " " + b.path + ": answered a status that is not in success_codes or not_found_codes"}
}

// setAll sets every header of from on to, over what the client set.
func setAll(to, from http.Header) {
	for k, v := range from {
		to[k] = v
	}
}

// secretPieces are the parts of a header value that must never reach an
// error: the value and each of its words long enough to be a credential
// (a scheme word such as "Bearer" is left out).
func secretPieces(v string) []string {
	out := []string{v}
	for _, w := range strings.Fields(v) {
		if len(w) >= 8 && w != v {
			out = append(out, w)
		}
	}
	return out
}

// readError reads the short summary an in-house app may put in a JSON
// error body: the first of "error_description", "message", "detail" and
// "error" that is a string. The shared client sanitizes it and redacts the
// headers' values from it.
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e map[string]any
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	for _, k := range []string{"error_description", "message", "detail", "error"} {
		if s, ok := e[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
