package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The operators' page's sessions. Logging in with the admin token sets a
// cookie that holds a random session id and its expiry, signed with
// HMAC-SHA256 under a key derived from the token: the token itself never
// leaves the login form, and a new token (a restart with another one)
// makes every cookie signed under the old one worthless, so everyone is
// logged out. Logging out clears the cookie and remembers the session id
// as ended until it would have expired (in this process: a replica
// behind the same load balancer still honours it until then).
//
// The cookie is HttpOnly, SameSite=Strict, scoped to /ui/, and Secure
// unless the page is reached over plain HTTP at a loopback address
// (localhost, 127.0.0.0/8, ::1), where browsers would not send a Secure
// cookie back; behind a proxy that ends TLS, X-Forwarded-Proto: https
// also makes it Secure (that header can only add the flag, never drop it).

const (
	uiCookie     = "offboarder_session"
	uiSessionTTL = 12 * time.Hour
	uiIDLen      = 16
)

// uiSessions signs and checks the page's session cookies and its CSRF
// tokens.
type uiSessions struct {
	key   []byte // HMAC-SHA256 of a fixed label under the admin token; nil: no token, no sessions
	now   func() time.Time
	mu    sync.Mutex
	ended map[string]time.Time // logged-out session ids → their expiry
}

func newUISessions(token string) *uiSessions {
	s := &uiSessions{now: time.Now, ended: map[string]time.Time{}}
	if token != "" {
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte("offboarder ui session key v1"))
		s.key = m.Sum(nil)
	}
	return s
}

func (s *uiSessions) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// start makes a new session and sets its cookie on w.
func (s *uiSessions) start(w http.ResponseWriter, r *http.Request) {
	var payload [uiIDLen + 8]byte
	_, _ = rand.Read(payload[:uiIDLen])
	exp := s.now().Add(uiSessionTTL)
	binary.BigEndian.PutUint64(payload[uiIDLen:], uint64(exp.Unix()))
	v := base64.RawURLEncoding.EncodeToString(payload[:]) + "." +
		base64.RawURLEncoding.EncodeToString(s.mac([]byte("session|"), payload[:]))
	http.SetCookie(w, &http.Cookie{Name: uiCookie, Value: v, Path: "/ui/", Expires: exp,
		HttpOnly: true, Secure: secureCookie(r), SameSite: http.SameSiteStrictMode})
}

// session answers the id of r's valid session, or "" when it has none: no
// cookie, a bad signature (another token's, or forged), expired, or
// logged out.
func (s *uiSessions) session(r *http.Request) string {
	if s.key == nil {
		return ""
	}
	ck, err := r.Cookie(uiCookie)
	if err != nil {
		return ""
	}
	p, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return ""
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(payload) != uiIDLen+8 || !hmac.Equal(mac, s.mac([]byte("session|"), payload)) {
		return ""
	}
	if time.Unix(int64(binary.BigEndian.Uint64(payload[uiIDLen:])), 0).Before(s.now()) {
		return ""
	}
	id := hex.EncodeToString(payload[:uiIDLen])
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, gone := s.ended[id]; gone {
		return ""
	}
	return id
}

// end forgets the session id and clears the cookie on w.
func (s *uiSessions) end(w http.ResponseWriter, r *http.Request, id string) {
	now := s.now()
	s.mu.Lock()
	for k, exp := range s.ended {
		if exp.Before(now) {
			delete(s.ended, k)
		}
	}
	s.ended[id] = now.Add(uiSessionTTL)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: uiCookie, Value: "", Path: "/ui/", MaxAge: -1,
		HttpOnly: true, Secure: secureCookie(r), SameSite: http.SameSiteStrictMode})
}

// csrf is the session's form token: every form carries it in a hidden
// field.
func (s *uiSessions) csrf(id string) string {
	return hex.EncodeToString(s.mac([]byte("csrf|"), []byte(id)))
}

// checkCSRF compares a form's token with the session's in constant time.
func (s *uiSessions) checkCSRF(id, got string) bool {
	want := s.csrf(id)
	return len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// checkToken compares a login form's token with the admin token in
// constant time.
func checkToken(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// secureCookie reports whether the session cookie gets the Secure flag:
// always, but for plain HTTP at a loopback host (see above).
func secureCookie(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
