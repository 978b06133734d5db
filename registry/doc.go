// Package registry is the one list of connector and source types; adding a
// system is one line here.
//
// The parents (connectors, sources) hold the interfaces and the Build
// machinery and import none of their systems; the callers (cmd/offboarder,
// e2e and other tests) pass these maps to Build. There is no init()
// registration.
package registry
