package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// maxControlBody caps a control API request body.
const maxControlBody = 64 << 10

// optionsJSON is the control API's view of Options. The Okta token is a
// secret and is neither shown nor set here.
type optionsJSON struct {
	Latency   string  `json:"latency"` // a Go duration: "150ms"
	ErrorRate float64 `json:"error_rate"`
	RateLimit int     `json:"rate_limit"`
	Seed      int64   `json:"seed"`
	// Limits: vendor → its own limit, in place of rate_limit.
	Limits map[string]limitJSON `json:"limits,omitempty"`
}

// limitJSON is one vendor's limit: requests per window ("1m", "10s").
type limitJSON struct {
	Requests int    `json:"requests"`
	Per      string `json:"per"`
}

// optionsPatch is a PUT /_sim/options body: fields left out keep their value.
type optionsPatch struct {
	Latency   *string  `json:"latency"`
	ErrorRate *float64 `json:"error_rate"`
	RateLimit *int     `json:"rate_limit"`
	Seed      *int64   `json:"seed"`
	// Limits replaces every per-vendor limit; {} removes them.
	Limits *map[string]limitJSON `json:"limits"`
}

// newUser is a POST /_sim/users body.
type newUser struct {
	Email    string `json:"email"`
	Sessions *int   `json:"sessions"`
}

// mountControl serves the JSON control API under /_sim/. Every answer is
// JSON; bad input is a 400 whose "error" names the problem.
func (s *Simulator) mountControl() {
	s.srv.HandleFunc("GET /_sim/calls", s.getCalls)
	s.srv.HandleFunc("DELETE /_sim/calls", s.deleteCalls)
	s.srv.HandleFunc("GET /_sim/users", s.getUsers)
	s.srv.HandleFunc("POST /_sim/users", s.postUser)
	s.srv.HandleFunc("GET /_sim/options", s.getOptions)
	s.srv.HandleFunc("PUT /_sim/options", s.putOptions)
	s.srv.HandleFunc("POST /_sim/hold/{vendor}", s.postHold)
	s.srv.HandleFunc("DELETE /_sim/hold/{vendor}", s.deleteHold)
	s.srv.HandleFunc("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		controlError(w, http.StatusNotFound, fmt.Sprintf("no control endpoint %s %s", r.Method, r.URL.Path))
	})
}

func (s *Simulator) getCalls(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Calls())
}

func (s *Simulator) deleteCalls(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
}

// getUsers answers email → vendor → active sessions.
func (s *Simulator) getUsers(w http.ResponseWriter, _ *http.Request) {
	out := map[string]map[string]int{}
	for _, v := range s.srv.Vendors() {
		for email, n := range v.Users() {
			if out[email] == nil {
				out[email] = map[string]int{}
			}
			out[email][v.Name()] = n
		}
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

func (s *Simulator) postUser(w http.ResponseWriter, r *http.Request) {
	var u newUser
	if err := decodeBody(w, r, &u); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	u.Email = strings.TrimSpace(u.Email)
	switch addr, err := mail.ParseAddress(u.Email); {
	case u.Email == "":
		controlError(w, http.StatusBadRequest, "email is required")
		return
	case err != nil || addr.Address != u.Email:
		controlError(w, http.StatusBadRequest, fmt.Sprintf("email %q is not a bare address like alice@example.com", u.Email))
		return
	case u.Sessions == nil:
		controlError(w, http.StatusBadRequest, "sessions is required")
		return
	case *u.Sessions < 0:
		controlError(w, http.StatusBadRequest, fmt.Sprintf("sessions must not be negative, got %d", *u.Sessions))
		return
	}
	s.AddUser(u.Email, *u.Sessions)
	email := fake.NormalEmail(u.Email)
	per := map[string]int{}
	for _, v := range s.srv.Vendors() {
		per[v.Name()] = v.Sessions(email)
	}
	fake.WriteJSON(w, http.StatusCreated, map[string]any{"email": email, "sessions": per})
}

func (s *Simulator) getOptions(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, viewOptions(s.options()))
}

// putOptions changes the knobs named in the body and answers all of them.
func (s *Simulator) putOptions(w http.ResponseWriter, r *http.Request) {
	var p optionsPatch
	if err := decodeBody(w, r, &p); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	o, err := p.apply(s.opts, s)
	if err == nil {
		s.applyOptions(o)
	}
	s.mu.Unlock()
	if err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.getOptions(w, r)
}

func (p optionsPatch) apply(o Options, s *Simulator) (Options, error) {
	if p.Latency != nil {
		d, err := time.ParseDuration(*p.Latency)
		if err != nil || d < 0 {
			return o, fmt.Errorf("latency %q is not a non-negative Go duration like \"150ms\"", *p.Latency)
		}
		o.Latency = d
	}
	if p.ErrorRate != nil {
		if *p.ErrorRate < 0 || *p.ErrorRate > 1 {
			return o, fmt.Errorf("error_rate must be within 0..1, got %v", *p.ErrorRate)
		}
		o.ErrorRate = *p.ErrorRate
	}
	if p.RateLimit != nil {
		if *p.RateLimit < 0 {
			return o, fmt.Errorf("rate_limit must not be negative (0 is unlimited), got %d", *p.RateLimit)
		}
		o.RateLimit = *p.RateLimit
	}
	if p.Seed != nil {
		o.Seed = *p.Seed
	}
	if p.Limits != nil {
		limits := make(map[string]Limit, len(*p.Limits))
		for v, l := range *p.Limits {
			if s.srv.Vendor(v) == nil {
				return o, fmt.Errorf("limits: unknown vendor %q (known: %s)", v, s.vendorNames())
			}
			per, err := time.ParseDuration(l.Per)
			if err != nil || per <= 0 {
				return o, fmt.Errorf("limits.%s.per %q is not a positive Go duration like \"1m\"", v, l.Per)
			}
			if l.Requests <= 0 {
				return o, fmt.Errorf("limits.%s.requests must be positive, got %d", v, l.Requests)
			}
			limits[v] = Limit{Requests: l.Requests, Per: per}
		}
		o.Limits = limits
	}
	return o, nil
}

func viewOptions(o Options) optionsJSON {
	v := optionsJSON{Latency: o.Latency.String(), ErrorRate: o.ErrorRate, RateLimit: o.RateLimit, Seed: o.Seed}
	for name, l := range o.Limits {
		if v.Limits == nil {
			v.Limits = map[string]limitJSON{}
		}
		v.Limits[name] = limitJSON{Requests: l.Requests, Per: l.Per.String()}
	}
	return v
}

func (s *Simulator) postHold(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("vendor")
	if s.srv.Vendor(name) == nil {
		controlError(w, http.StatusBadRequest, fmt.Sprintf("unknown vendor %q (known: %s)", name, s.vendorNames()))
		return
	}
	s.Hold(name)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"vendor": name, "held": true})
}

// deleteHold ends the hold on a vendor; ending a hold that isn't there is fine.
func (s *Simulator) deleteHold(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("vendor")
	if s.srv.Vendor(name) == nil {
		controlError(w, http.StatusBadRequest, fmt.Sprintf("unknown vendor %q (known: %s)", name, s.vendorNames()))
		return
	}
	s.srv.Release(name)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"vendor": name, "held": false})
}

func (s *Simulator) vendorNames() string {
	vendors := s.srv.Vendors()
	names := make([]string, len(vendors))
	for i, v := range vendors {
		names[i] = v.Name()
	}
	return strings.Join(names, ", ")
}

// decodeBody reads one JSON object into dst, refusing unknown fields,
// trailing data and bodies over maxControlBody.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("body: a JSON object is required")
		}
		return fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return errors.New("body: unexpected data after the JSON object")
	}
	return nil
}

func controlError(w http.ResponseWriter, status int, msg string) {
	fake.WriteJSON(w, status, map[string]string{"error": msg})
}
