package fake

import (
	"cmp"
	"maps"
	"slices"
	"sync"
)

// Directory is one vendor fake's users, found by their (lower-case) email
// and by their vendor id, and listed in id order. It is guarded by the
// vendor's own mutex, given to NewDirectory, so that the vendor's other
// state can share it: Sessions, Users and Subject take that mutex
// themselves (they serve the Vendor methods of the same names); every other
// method wants it held.
type Directory[ID cmp.Ordered, U any] struct {
	mu       *sync.Mutex
	sessions func(*U) int // a user's active sessions

	byEmail map[string]*U
	emails  map[ID]string // id → email
	ids     []ID          // every id, sorted: the listing order
}

// NewDirectory returns an empty Directory guarded by mu; sessions counts a
// user's active sessions.
func NewDirectory[ID cmp.Ordered, U any](mu *sync.Mutex, sessions func(*U) int) *Directory[ID, U] {
	return &Directory[ID, U]{mu: mu, sessions: sessions, byEmail: map[string]*U{}, emails: map[ID]string{}}
}

// Ensure returns the user with that email, first adding the one create
// makes, under the id it gives, if there is none yet. create runs with the
// mutex held and may look at the Directory (to avoid an id in use, say).
func (d *Directory[ID, U]) Ensure(email string, create func() (ID, *U)) *U {
	if u := d.byEmail[email]; u != nil {
		return u
	}
	id, u := create()
	d.byEmail[email], d.emails[id] = u, email
	i, _ := slices.BinarySearch(d.ids, id)
	d.ids = slices.Insert(d.ids, i, id)
	return u
}

// ByEmail returns the user with that exact email, or nil.
func (d *Directory[ID, U]) ByEmail(email string) *U { return d.byEmail[email] }

// ByID returns the user with that id, or nil.
func (d *Directory[ID, U]) ByID(id ID) *U {
	email, ok := d.emails[id]
	if !ok {
		return nil
	}
	return d.byEmail[email]
}

// IDs returns every id in order; the caller must not change it.
func (d *Directory[ID, U]) IDs() []ID { return d.ids }

// Emails returns every email, in no particular order.
func (d *Directory[ID, U]) Emails() []string { return slices.Collect(maps.Keys(d.byEmail)) }

// Sessions returns the active sessions of the user with that email, or -1
// if there is no such user.
func (d *Directory[ID, U]) Sessions(email string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.byEmail[email]; u != nil {
		return d.sessions(u)
	}
	return -1
}

// Users returns email → active sessions of every user.
func (d *Directory[ID, U]) Users() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.byEmail))
	for email, u := range d.byEmail {
		out[email] = d.sessions(u)
	}
	return out
}

// Subject returns the email of the user with that id or, failing that, of
// the user with that exact email; "" if there is neither. A vendor passes
// the id its route names and, where a route looks users up by email, that
// email.
func (d *Directory[ID, U]) Subject(id ID, email string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.emails[id]; ok {
		return e
	}
	if d.byEmail[email] != nil {
		return email
	}
	return ""
}
