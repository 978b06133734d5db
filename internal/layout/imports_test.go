package layout

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/offboarder/offboarder"

// rule forbids every package under from (the package and its subpackages)
// to depend, directly or not, on any package under one of not. A dependency
// under one of but is allowed even when it is under one of not.
type rule struct {
	why  string
	from string
	not  []string
	but  []string
}

// ours is every package of the module: "imports nothing of ours" forbids it.
const ours = module

var (
	gin   = "github.com/gin-gonic/gin"
	asynq = "github.com/hibiken/asynq"
)

// rules are the house's: docs/ARCHITECTURE.md states them in words.
var rules = []rule{
	{why: "webhook and worker never import each other", from: "webhook", not: []string{"worker"}},
	{why: "webhook and worker never import each other", from: "worker", not: []string{"webhook"}},
	{why: "sources and connectors never import each other", from: "sources", not: []string{"connectors"}},
	{why: "sources and connectors never import each other", from: "connectors", not: []string{"sources"}},
	{why: "connectors know nothing of the store, the queue, asynq or Gin", from: "connectors", not: []string{"store", "tasks", "worker", "webhook", asynq, gin}},
	{why: "sources know nothing of the store, the queue, asynq or Gin", from: "sources", not: []string{"store", "tasks", "worker", "webhook", asynq, gin}},
	{why: "vendorapi imports nothing of ours", from: "vendorapi", not: []string{ours, asynq, gin}, but: []string{"vendorapi"}},
	{why: "the shared words import nothing", from: "offboard", not: []string{ours}, but: []string{"offboard"}},
	{why: "the store imports nothing of ours but the shared words", from: "store", not: []string{ours}, but: []string{"store", "offboard"}},
	{why: "tasks import nothing of ours", from: "tasks", not: []string{ours}, but: []string{"tasks", "offboard"}},
	{why: "the simulator is written from the vendors' docs, never from our code", from: "simulator", not: []string{ours}, but: []string{"simulator"}},
	{why: "config imports nothing of ours", from: "config", not: []string{ours}, but: []string{"config"}},
}

// path turns a rule's short name into an import path prefix.
func path(p string) string {
	if strings.Contains(p, ".") && strings.Contains(p, "/") {
		return p
	}
	return module + "/" + p
}

// under reports whether pkg is p or below it.
func under(pkg, p string) bool {
	p = path(p)
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}

// violations lists "pkg → dep (why)" for every forbidden dependency in
// graph (package → its dependencies).
func violations(graph map[string][]string) []string {
	var out []string
	for pkg, deps := range graph {
		for _, r := range rules {
			if !under(pkg, r.from) {
				continue
			}
			for _, d := range deps {
				forbidden := slices.ContainsFunc(r.not, func(n string) bool { return under(d, n) })
				allowed := slices.ContainsFunc(r.but, func(b string) bool { return under(d, b) })
				if forbidden && !allowed {
					out = append(out, pkg+" → "+d+" ("+r.why+")")
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestTheHouseKeepsItsImportRules reads every package's dependencies (not
// its tests') with `go list -deps` and fails on a forbidden one.
func TestTheHouseKeepsItsImportRules(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			graph[f[0]] = f[1:]
		}
	}
	for _, p := range []string{"webhook", "worker", "sources", "connectors", "vendorapi", "offboard", "store", "tasks", "simulator", "config"} {
		if _, ok := graph[path(p)]; !ok {
			t.Errorf("go list did not report %s: the rules would check nothing", path(p))
		}
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

// TestTheRulesCatchAForbiddenImport feeds the checker a graph with a
// forbidden edge of each kind, so that the test above can fail.
func TestTheRulesCatchAForbiddenImport(t *testing.T) {
	tests := []struct {
		name string
		pkg  string
		dep  string
		bad  bool
	}{
		{"the webhook importing the worker", path("webhook"), path("worker"), true},
		{"a connector importing a source package", path("connectors/okta"), path("sources/okta"), true},
		{"a source importing the store", path("sources/entra"), path("store"), true},
		{"a connector importing asynq", path("connectors/slack"), asynq + "/internal/base", true},
		{"vendorapi importing the shared words", path("vendorapi"), path("offboard"), true},
		{"a simulated vendor importing a connector", path("simulator/okta"), path("connectors/okta"), true},
		{"a connector importing vendorapi", path("connectors/okta"), path("vendorapi"), false},
		{"the store importing the shared words", path("store"), path("offboard"), false},
		{"a simulated vendor importing the simulator's fake", path("simulator/okta"), path("simulator/fake"), false},
		{"the worker importing connectors", path("worker"), path("connectors/okta"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(map[string][]string{tt.pkg: {tt.dep}})
			if (len(got) > 0) != tt.bad {
				t.Errorf("violations = %v, want forbidden %v", got, tt.bad)
			}
		})
	}
}
