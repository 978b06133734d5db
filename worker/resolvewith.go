package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// CheckResolveWith reports, each under its key path
// (`sources[i] (name).resolve_with`), every source whose resolve_with does
// not name a configured connector that can look a user up by id
// (connectors.Finder). srcs are in the config's order, as sources.Build
// returns them.
func CheckResolveWith(srcs []sources.Source, conns []connectors.Connector) error {
	byName := make(map[string]connectors.Connector, len(conns))
	for _, c := range conns {
		byName[c.Name()] = c
	}
	var errs []error
	for i, src := range srcs {
		r, ok := src.(sources.ConnectorResolved)
		if !ok || r.ResolveWith() == "" {
			continue
		}
		at := fmt.Sprintf("sources[%d] (%s).resolve_with", i, src.Name())
		switch c, ok := byName[r.ResolveWith()]; {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: no connector is named %q", at, r.ResolveWith()))
		default:
			if _, ok := c.(connectors.Finder); !ok {
				errs = append(errs, fmt.Errorf("%s: connector %q cannot look a user up by id (okta and entra can)", at, r.ResolveWith()))
			}
		}
	}
	return errors.Join(errs...)
}

// finderResolver resolves the id-only events of a source with resolve_with
// through the named connector's user lookup.
type finderResolver struct {
	connector string
	finder    connectors.Finder
}

// Resolve implements sources.Resolver: it looks up ev.IDs[sources.SubjectIDKey]
// in the connector. A user the connector does not know is a NotFound
// *vendorapi.Error: the case needs attention, as nobody can say who it is.
func (f finderResolver) Resolve(ctx context.Context, ev sources.Event) (sources.Resolution, error) {
	id := ev.IDs[sources.SubjectIDKey]
	if id == "" {
		return sources.Resolution{}, &vendorapi.Error{System: f.connector, Kind: vendorapi.Invalid, Msg: "the event carries no user id to look up"}
	}
	email, found, err := f.finder.FindEmail(ctx, id)
	switch {
	case err != nil:
		return sources.Resolution{}, err
	case !found:
		return sources.Resolution{}, &vendorapi.Error{System: f.connector, Kind: vendorapi.NotFound, Msg: "no user with id " + id}
	}
	return sources.Resolution{Email: email, Offboard: true}, nil
}
