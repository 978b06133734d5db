package connectors

import (
	"fmt"

	"github.com/offboarder/offboarder/vendorapi"
)

// Follower is implemented by a connector whose step follows another
// connector's on the same case (a manual logout after a SCIM
// deactivation): its step is shown to a person, and may be attested, only
// once the other entry is done. Build checks that After names a configured
// connector and that no steps wait for each other.
type Follower interface {
	// After returns the name of the connector this one follows, or "".
	After() string
}

// After maps each connector that follows another (Follower with a
// non-empty After) to the one it follows; empty when none does. The HTTP
// side takes it to tell a step that waits from one that is ready.
func After(conns []Connector) map[string]string {
	m := map[string]string{}
	for _, c := range conns {
		if f, ok := c.(Follower); ok && f.After() != "" {
			m[c.Name()] = f.After()
		}
	}
	return m
}

// checkAfter reports, for each opened connector that follows another, an
// after naming no configured connector, or a chain of steps that comes
// back to itself (those steps would wait for each other for ever). index
// is each spec name's position in the config.
func checkAfter(opened []Connector, index map[string]int) []error {
	after := After(opened)
	var errs []error
	for _, c := range opened {
		a, ok := after[c.Name()]
		if !ok {
			continue
		}
		at := fmt.Sprintf("connectors[%d] (%s)", index[c.Name()], c.Name())
		if _, known := index[a]; !known {
			errs = append(errs, fmt.Errorf("%s.%w", at, vendorapi.FieldErr("after", "no connector is named %q", a)))
			continue
		}
		// Follow the chain; it is as long as the config at most.
		for next, steps := a, 0; steps < len(after); steps++ {
			n, more := after[next]
			if !more {
				break
			}
			if n == c.Name() {
				errs = append(errs, fmt.Errorf("%s.%w", at, vendorapi.FieldErr("after",
					"%q comes back to this connector through after: the steps would wait for each other", a)))
				break
			}
			next = n
		}
	}
	return errs
}
