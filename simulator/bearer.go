package simulator

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"
)

// bearerTokens remembers the access tokens a vendor's token endpoint issued
// — by hash, never the token — until they expire. Safe for concurrent use.
type bearerTokens struct {
	mu  sync.Mutex
	exp map[[32]byte]time.Time
}

// issue remembers token for life, and forgets the tokens that have expired.
func (b *bearerTokens) issue(token string, life time.Duration) {
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

// valid reports whether r carries "Authorization: Bearer <t>" with a live
// token t that was issued here.
func (b *bearerTokens) valid(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	exp, ok := b.exp[sha256.Sum256([]byte(token))]
	return ok && time.Now().Before(exp)
}
