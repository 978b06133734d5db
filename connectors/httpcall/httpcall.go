// Package httpcall is the http connector (config `type: http`): one
// templated HTTP request to an in-house app, built from the subject's
// fields with Go templates, for a system no other connector knows. The
// app decides what the request ends; offboarder records that it was
// taken (acknowledged) and reads nothing back.
//
// The package is not named http, as its directory's name would then clash
// with net/http in every file that imports both (this one does); Go names a
// package after its directory, so both are httpcall.
package httpcall

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// There is no vendor to cite: the request is the operator's, and its
// meaning is the in-house app's. The status codes follow RFC 9110
// (https://www.rfc-editor.org/rfc/rfc9110#name-status-codes), method
// tokens RFC 9110 §9.1 (https://www.rfc-editor.org/rfc/rfc9110#name-overview).

// Defaults of the keys left out.
var (
	DefaultSuccessCodes  = []int{200, 201, 202, 204}
	DefaultNotFoundCodes = []int{404}
)

// Config is the settings of an http connector. Every template is a Go
// text/template (https://pkg.go.dev/text/template) over the subject:
// .Email, .IDs (a map of the ids the event carried, e.g. .IDs.okta) and
// .Reason; a field or id the subject lacks is an error, never an empty
// value.
type Config struct {
	// BaseURL is where every request goes; the request never leaves it.
	BaseURL string `json:"base_url"`
	// Method is the request's method; empty means POST.
	Method string `json:"method"`
	// Path is the template of the path below base_url, with an optional
	// query after "?", e.g. /api/users/{{.Email}}/sessions. Every value it
	// prints is escaped where it stands (pathescape in the path, urlquery
	// after the "?"; written out explicitly, neither is applied twice), so a
	// value cannot add a segment, a query or a fragment; an empty, "." or
	// ".." value in the path is an error for that subject.
	Path string `json:"path"`
	// Headers are header names and their value templates, e.g.
	// Authorization: Bearer ${APP_TOKEN}. Every value is a secret: never
	// printed, never in error text.
	Headers map[string]vendorapi.Secret `json:"headers"`
	// Body is the template of a JSON body, sent as application/json; empty
	// means no body. Every value it prints must go through json, which
	// encodes it with its quotes: {"email": {{json .Email}}}. The filled-in
	// body must be valid JSON, or the request is not sent.
	Body string `json:"body"`
	// SuccessCodes are the statuses that mean the request was taken
	// (acknowledged); empty means 200, 201, 202, 204.
	SuccessCodes []int `json:"success_codes"`
	// NotFoundCodes are the statuses that mean the app has no such person
	// (not_found); empty means 404.
	NotFoundCodes []int `json:"not_found_codes"`
	// Disables says the request disables the account or a credential
	// rather than only ending sessions: it is then sent only for the
	// reasons in DisableFor, and skipped for any other.
	Disables bool `json:"disables"`
	// DisableFor is the shared disable_for rule (connectors.DisableFor);
	// only with disables: true. Empty means terminated, deactivated.
	DisableFor connectors.DisableFor `json:"disable_for"`
}

// sample is the subject every template is tried on at start; it has every
// id the templates name.
func sample(ids []string) offboard.Subject {
	s := offboard.Subject{Email: "first.last+sample@example.com", Reason: offboard.ReasonTerminated, IDs: map[string]string{}}
	for _, k := range ids {
		s.IDs[k] = "sample-" + k
	}
	return s
}

// compiled is the parsed and checked config.
type compiled struct {
	method  string
	path    *tmpl
	body    *tmpl // nil: no body
	headers map[string]*tmpl
	names   []string // header names, sorted
	ids     []string // every id kind any template names
}

// compile parses every template and tries it on a sample subject,
// reporting each problem with its key. A header's problem never shows
// its text, which is a secret.
func (c *Config) compile() (*compiled, error) {
	var errs []error
	out := &compiled{method: c.Method, headers: map[string]*tmpl{}}
	if out.method == "" {
		out.method = http.MethodPost
	}
	switch {
	case !validMethod(out.method):
		errs = append(errs, vendorapi.FieldErr("method", "must be an HTTP method token, e.g. POST or DELETE"))
	case out.method == http.MethodConnect:
		errs = append(errs, vendorapi.FieldErr("method", "CONNECT is not a request to base_url"))
	case c.Body != "" && (out.method == http.MethodGet || out.method == http.MethodHead):
		errs = append(errs, vendorapi.FieldErr("body", "not allowed with %s", out.method))
	}

	if c.Path == "" {
		errs = append(errs, vendorapi.FieldErr("path", "required, e.g. /api/users/{{.Email}}/logout"))
	} else if t, err := parseTemplate("path", c.Path); err != nil {
		errs = append(errs, vendorapi.FieldErr("path", "%s", templateErr("path", err)))
	} else {
		escapePath(t)
		out.path = t
		out.ids = append(out.ids, t.ids...)
	}
	if c.Body != "" {
		if t, err := parseTemplate("body", c.Body); err != nil {
			errs = append(errs, vendorapi.FieldErr("body", "%s", templateErr("body", err)))
		} else if err := requireJSON(t); err != nil {
			errs = append(errs, vendorapi.FieldErr("body", "%s", err))
		} else {
			out.body = t
			out.ids = append(out.ids, t.ids...)
		}
	}
	out.names = slices.Sorted(maps.Keys(c.Headers))
	for _, name := range out.names {
		key := "headers." + name
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding", "connection", "user-agent":
			errs = append(errs, vendorapi.FieldErr(key, "set by offboarder, not by the config"))
			continue
		}
		if !httpguts.ValidHeaderFieldName(name) {
			errs = append(errs, vendorapi.FieldErr("headers", "%q is not a valid header name", name))
			continue
		}
		if strings.TrimSpace(string(c.Headers[name])) == "" {
			errs = append(errs, vendorapi.FieldErr(key, "empty (an unset variable?)"))
			continue
		}
		t, err := parseTemplate(key, string(c.Headers[name]))
		if err != nil {
			// The parser quotes the text, and the text is a secret.
			errs = append(errs, vendorapi.FieldErr(key, "not a valid template (its text is not shown: it is a secret)"))
			continue
		}
		out.headers[name] = t
		out.ids = append(out.ids, t.ids...)
	}
	slices.Sort(out.ids)
	out.ids = slices.Compact(out.ids)
	// Try every template that parsed on a sample subject that has every
	// id they name.
	var b built
	d := dataOf(sample(out.ids))
	if out.path != nil {
		errs = append(errs, out.fillPath(&b, d))
	}
	if out.body != nil {
		errs = append(errs, out.fillBody(&b, d))
	}
	b.header = http.Header{}
	for _, name := range out.names {
		if out.headers[name] != nil {
			errs = append(errs, out.fillHeader(&b, name, d))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// templateErr is a template's parse or execution error with its place,
// e.g. `at 1:9: executing "path" at <.Emial>: can't evaluate field Emial`,
// without the package's "template: <name>:" prefix.
func templateErr(key string, err error) string {
	msg, ok := strings.CutPrefix(err.Error(), "template: "+key+":")
	if !ok {
		return msg
	}
	return "at " + msg
}

// request is the request for s: path, query, headers and body filled in.
// Its error is a *vendorapi.FieldError naming the key whose template
// failed for s; a header's never holds the header's text.
func (c *compiled) request(s offboard.Subject) (built, error) {
	var b built
	for _, t := range []struct {
		key string
		t   *tmpl
	}{{"path", c.path}, {"body", c.body}} {
		if t.t == nil {
			continue
		}
		if k, ok := t.t.missing(s); ok {
			return b, vendorapi.FieldErr(t.key, "the subject has no id %q", k)
		}
	}
	d := dataOf(s)
	if err := c.fillPath(&b, d); err != nil {
		return b, err
	}
	if c.body != nil {
		if err := c.fillBody(&b, d); err != nil {
			return b, err
		}
	}
	b.header = make(http.Header, len(c.names))
	for _, name := range c.names {
		if k, ok := c.headers[name].missing(s); ok {
			return b, vendorapi.FieldErr("headers."+name, "the subject has no id %q", k)
		}
		if err := c.fillHeader(&b, name, d); err != nil {
			return b, err
		}
	}
	return b, nil
}

// fillPath fills in b's path and query.
func (c *compiled) fillPath(b *built, d data) error {
	p, err := c.path.exec(d)
	if err != nil {
		return vendorapi.FieldErr("path", "%s", templateErr("path", err))
	}
	if b.path, b.query, err = checkPath(p); err != nil {
		return vendorapi.FieldErr("path", "%s", err)
	}
	return nil
}

// fillBody fills in b's body, which must be valid JSON.
func (c *compiled) fillBody(b *built, d data) error {
	body, err := c.body.exec(d)
	if err != nil {
		return vendorapi.FieldErr("body", "%s", templateErr("body", err))
	}
	if !json.Valid([]byte(body)) {
		return vendorapi.FieldErr("body", "not valid JSON once filled in; values go through json, e.g. {{json .Email}}, outside quotes")
	}
	b.body = json.RawMessage(body)
	return nil
}

// fillHeader fills in the header name of b. Its error never holds the
// header's text, a secret.
func (c *compiled) fillHeader(b *built, name string, d data) error {
	key := "headers." + name
	v, err := c.headers[name].exec(d)
	if err != nil {
		// An execution error quotes the action, part of the secret.
		return vendorapi.FieldErr(key, "the template fails on a sample subject: a field it names is not .Email, .IDs or .Reason, or a function fails (its text is not shown: it is a secret)")
	}
	if !httpguts.ValidHeaderFieldValue(v) {
		return vendorapi.FieldErr(key, "the filled-in value is not a valid header value (a line break or a control character)")
	}
	b.header.Set(name, v)
	return nil
}

// built is one filled-in request.
type built struct {
	path   string
	query  map[string][]string
	header http.Header
	body   json.RawMessage // nil: no body
}

// validMethod reports whether m is a token (RFC 9110 §9.1, §5.6.2).
func validMethod(m string) bool {
	return m != "" && strings.IndexFunc(m, func(r rune) bool { return !httpguts.IsTokenRune(r) }) < 0
}

// Validate reports every problem with the settings, each naming its key:
// base_url by vendorapi.CheckURL, the method, the codes, and every
// template, which must parse and fill in for a sample subject.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	}
	errs = append(errs, codesErr("success_codes", c.SuccessCodes), codesErr("not_found_codes", c.NotFoundCodes))
	for _, code := range c.successCodes() {
		if slices.Contains(c.notFoundCodes(), code) {
			errs = append(errs, vendorapi.FieldErr("not_found_codes", "%d is also a success code", code))
		}
	}
	if err := c.DisableFor.Validate(); err != nil {
		errs = append(errs, err)
	} else if len(c.DisableFor) > 0 && !c.Disables {
		errs = append(errs, vendorapi.FieldErr("disable_for", "only with disables: true (a request that disables an account)"))
	}
	if _, err := c.compile(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func codesErr(key string, codes []int) error {
	for i, c := range codes {
		if c < 100 || c > 599 {
			return vendorapi.FieldErr(fmt.Sprintf("%s[%d]", key, i), "must be an HTTP status, 100 to 599")
		}
	}
	return nil
}

func (c *Config) successCodes() []int {
	if len(c.SuccessCodes) == 0 {
		return DefaultSuccessCodes
	}
	return c.SuccessCodes
}

func (c *Config) notFoundCodes() []int {
	if len(c.NotFoundCodes) == 0 {
		return DefaultNotFoundCodes
	}
	return c.NotFoundCodes
}
