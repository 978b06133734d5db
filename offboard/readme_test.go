package offboard_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
)

// outcomeWords reads the Outcome constants declared in offboard.go.
func outcomeWords(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "offboard.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Outcome" {
				continue
			}
			for _, v := range vs.Values {
				if b, ok := v.(*ast.BasicLit); ok {
					w, _ := strconv.Unquote(b.Value)
					out = append(out, w)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no Outcome constant in offboard.go")
	}
	return out
}

// TestReadmeSaysWhatToDoInEveryStateAndOutcome: the README's tables have a
// row, with what to do, for every case state and every outcome word
// declared here, so that a new word cannot land unexplained.
func TestReadmeSaysWhatToDoInEveryStateAndOutcome(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, states, ok1 := strings.Cut(string(b), "\n| state | means | what to do |")
	states, outcomes, ok2 := strings.Cut(states, "\n| outcome | means | what to do |")
	if !ok1 || !ok2 {
		t.Fatal("README lacks the table of states (| state | means | what to do |) followed by the table of outcomes")
	}
	outcomes, _, _ = strings.Cut(outcomes, "\n\n")
	row := func(kind, word string) {
		t.Helper()
		readme := states
		if kind == "outcome" {
			readme = outcomes
		}
		i := strings.Index(readme, "\n| `"+word+"` | ")
		if i < 0 {
			t.Errorf("README has no row for the %s %q", kind, word)
			return
		}
		line, _, _ := strings.Cut(readme[i+1:], "\n")
		if cells := strings.Split(strings.Trim(line, "| "), " | "); len(cells) != 3 || cells[1] == "" || cells[2] == "" {
			t.Errorf("README's row for the %s %q wants three cells (word, meaning, what to do): %s", kind, word, line)
		}
	}
	for _, s := range offboard.States {
		row("state", string(s))
	}
	for _, o := range outcomeWords(t) {
		row("outcome", o)
	}
}
