package fake

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Tokens remembers the access tokens a vendor's token endpoint issued — by
// hash, never the token — until they expire. The zero value is empty and
// ready; it is safe for concurrent use.
type Tokens struct {
	mu  sync.Mutex
	exp map[[32]byte]time.Time
}

// Issue remembers token for life, and forgets the tokens that have expired.
func (b *Tokens) Issue(token string, life time.Duration) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exp == nil {
		b.exp = map[[32]byte]time.Time{}
	}
	for h, exp := range b.exp {
		if now.After(exp) {
			delete(b.exp, h)
		}
	}
	b.exp[sha256.Sum256([]byte(token))] = now.Add(life)
}

// Valid reports whether r carries "Authorization: Bearer <t>" with a live
// token t that was issued here.
func (b *Tokens) Valid(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && token != "" && b.Live(token)
}

// Mint issues a fresh access token, prefix and then size random bytes in
// hex, and remembers it for life.
func (b *Tokens) Mint(prefix string, size int, life time.Duration) string {
	token := prefix + RandomHex(size)
	b.Issue(token, life)
	return token
}

// Live reports whether token was issued here and has not expired.
func (b *Tokens) Live(token string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	exp, ok := b.exp[sha256.Sum256([]byte(token))]
	return ok && time.Now().Before(exp)
}

// Authorized is the credentials check of a vendor whose API wants a token
// from its own token endpoint: a call to that endpoint (its route pattern
// ends in tokenRoute) always passes, as the endpoint checks the client
// itself; any other call passes with a live token issued here (Valid).
func (b *Tokens) Authorized(r *http.Request, tokenRoute string) bool {
	return strings.HasSuffix(r.Pattern, tokenRoute) || b.Valid(r)
}
