package sources

// build opens specs with the generic type, the one this package holds (the
// registry, which lists every type, imports this package).
func build(specs []Spec) ([]Source, error) {
	return Build(specs, map[string]func() Config{"generic": func() Config { return new(GenericConfig) }}, Deps{})
}
