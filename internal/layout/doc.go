// Package layout holds no code: its test keeps the import rules of
// docs/ARCHITECTURE.md true, reading the real import graph with `go list`.
package layout
