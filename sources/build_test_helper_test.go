package sources

import "net/http"

// testTypes is the registry's list, which this package cannot import.
func testTypes() map[string]func() Config {
	return map[string]func() Config{
		"generic": func() Config { return new(GenericConfig) },
		"ssf":     func() Config { return new(SSFConfig) },
	}
}

func build(specs []Spec) ([]Source, error) { return Build(specs, testTypes(), Deps{}) }

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}
