package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dispatched answers the string literals a function of file compares
// with: the commands of runMain's switch, or the subcommands cmdCases
// matches (args[0] == "verify" …).
func dispatched(t *testing.T, file, fn string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	lit := func(e ast.Expr) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if v, err := strconv.Unquote(b.Value); err == nil {
				out = append(out, v)
			}
		}
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SwitchStmt:
				if id, ok := n.Tag.(*ast.Ident); ok && id.Name == "cmd" {
					for _, c := range n.Body.List {
						for _, e := range c.(*ast.CaseClause).List {
							lit(e)
						}
					}
				}
			case *ast.BinaryExpr:
				if ix, ok := n.X.(*ast.IndexExpr); ok && n.Op == token.EQL {
					if id, ok := ix.X.(*ast.Ident); ok && (id.Name == "args" || id.Name == "rest") {
						lit(n.Y)
					}
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("found no command in %s's %s", file, fn)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestHelpListsEveryCommand: `offboarder help` names every command the
// dispatcher runs and every subcommand of cases, read from the source, so
// that a command added without a line in the help fails here.
func TestHelpListsEveryCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runMain(t.Context(), []string{"help"}, &out, &errOut); code != 0 {
		t.Fatalf("offboarder help: exit %d, %s", code, errOut.String())
	}
	help := out.String()
	for _, cmd := range dispatched(t, "main.go", "runMain") {
		if strings.HasPrefix(cmd, "-") || cmd == "help" {
			continue
		}
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(cmd) + ` `).MatchString(help) {
			t.Errorf("offboarder help has no line for the command %q:\n%s", cmd, help)
		}
	}
	for _, sub := range dispatched(t, "cases.go", "cmdCases") {
		if !strings.Contains(help, `"cases `+sub) && !strings.Contains(help, `"cases [`+sub+`]`) {
			t.Errorf("offboarder help does not name \"cases %s\":\n%s", sub, help)
		}
	}
	if !strings.Contains(help, "health") || !strings.Contains(help, "attest") {
		t.Errorf("offboarder help lacks health or attest:\n%s", help)
	}
}
