package main

import (
	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/caep"
	"github.com/offboarder/offboarder/webhook"
)

// wellKnown returns the public documents the configured connectors
// publish, for the HTTP server's /.well-known/: the caep transmitter's key
// set and SSF metadata, or none without a caep connector. Its error (caep
// connectors with different issuers) is a config error.
func wellKnown(conns []connectors.Connector) ([]webhook.Document, error) {
	d, err := caep.Publish(conns)
	if err != nil || d == nil {
		return nil, err
	}
	return []webhook.Document{
		{Path: caep.JWKSPath, Body: d.JWKS, MaxAge: caep.MaxAge},
		{Path: caep.ConfigurationPath, Body: d.Configuration, MaxAge: caep.MaxAge},
	}, nil
}
