package connectors_test

import (
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/registry"
)

// step is one scripted exchange of a vendor fake.
type step = conformance.Step

// types is every connector type, for Build.
var types = registry.Connectors()
