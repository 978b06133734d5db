package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of a compose file the check reads.
type composeFile struct {
	Services map[string]struct {
		Build       any      `yaml:"build"`
		Command     []string `yaml:"command"`
		Environment any      `yaml:"environment"` // a map or a list of K=V
		Volumes     []string `yaml:"volumes"`
	} `yaml:"services"`
}

// composeVar is compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?message}, ${VAR?message}.
// https://docs.docker.com/reference/compose-file/interpolation/
var composeVar = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate resolves s as compose does with the shell's environment
// host; a required variable that host lacks is an error.
func interpolate(s string, host map[string]string) (string, error) {
	var err error
	out := composeVar.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := composeVar.FindStringSubmatch(m)
		name, op, arg := g[1], g[2], g[3]
		if name == "" {
			name = g[4]
		}
		v, set := host[name]
		switch op {
		case ":-":
			if v == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?", "?":
			if !set || (op == ":?" && v == "") {
				err = fmt.Errorf("required variable %s is missing: %s", name, arg)
			}
		}
		return v
	})
	return out, err
}

// composeEnv is a service's environment as compose gives it, and the names
// compose requires of the shell (${VAR:?…}).
func composeEnv(t *testing.T, raw any, host map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{}
	set := func(k, v string) {
		got, err := interpolate(v, host)
		if err != nil {
			t.Fatalf("environment %s: %v", k, err)
		}
		env[k] = got
	}
	switch e := raw.(type) {
	case map[string]any:
		for k, v := range e {
			set(k, fmt.Sprint(v))
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			set(k, v)
		}
	}
	return env
}

// required lists the variables compose requires of the shell (${VAR:?…}).
func required(raw []byte) []string {
	var names []string
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):?\?`).FindAllSubmatch(raw, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

// withEnv runs fn with the process environment set to exactly env.
func withEnv(t *testing.T, env map[string]string, fn func()) {
	t.Helper()
	saved := os.Environ()
	os.Clearenv()
	defer func() {
		os.Clearenv()
		for _, kv := range saved {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	}()
	for k, v := range env {
		os.Setenv(k, v)
	}
	fn()
}

// TestComposeServicesPassTheCheck reads docker-compose.yml as shipped and,
// for every service built from this repository that serves or works, takes
// the environment compose gives it (the variables compose requires set as
// an operator would, every other one unset so its default applies), finds
// the config file its volume mounts at OFFBOARDER_CONFIG, and runs
// `offboarder check` on it with exactly that environment: it must pass.
// Then each variable the config reads without a default is dropped in
// turn, and the check must fail: a compose file that stops passing one
// would not start.
func TestComposeServicesPassTheCheck(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
	host := map[string]string{}
	for _, name := range required(raw) {
		host[name] = "compose-" + strings.ToLower(name) + "-0123456789abcdef"
	}
	checked := 0
	for name, svc := range cf.Services {
		if svc.Build == nil || len(svc.Command) == 0 || (svc.Command[0] != "serve" && svc.Command[0] != "work") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			env := composeEnv(t, svc.Environment, host)
			inContainer := env["OFFBOARDER_CONFIG"]
			if inContainer == "" {
				t.Fatal("OFFBOARDER_CONFIG is not set: the service would read config.yaml from its working directory")
			}
			var config string
			for _, v := range svc.Volumes {
				parts := strings.Split(v, ":")
				if len(parts) >= 2 && parts[1] == inContainer {
					config = filepath.Join("../..", parts[0])
				}
			}
			if config == "" {
				t.Fatalf("no volume mounts a file at %s", inContainer)
			}
			check := func(env map[string]string) (string, error) {
				var out, errb bytes.Buffer
				var err error
				withEnv(t, env, func() { err = cmdCheck(t.Context(), []string{"--config", config}, &out, &errb) })
				return out.String(), err
			}
			out, err := check(env)
			if err != nil || !strings.Contains(out, ": OK (") {
				t.Fatalf("offboarder check with the environment compose gives %s: %v\n%s", name, err, out)
			}
			// The check names the Redis the service would use, and reads
			// its URL as the service does.
			if want := "# REDIS_URL: redis "; !strings.Contains(out, want) {
				t.Errorf("offboarder check does not name the service's Redis (%q):\n%s", want, out)
			}
			if _, err := check(with(env, "REDIS_URL", "redis+sentinel://:pw-SECRET@sentinel:26379/mymaster")); err != nil {
				t.Errorf("a Sentinel REDIS_URL fails the check: %v", err)
			} else if out, _ := check(with(env, "REDIS_URL", "redis+sentinel://:pw-SECRET@sentinel:26379/mymaster")); !strings.Contains(out, `# REDIS_URL: sentinel master "mymaster" via 1 sentinel(s) sentinel:26379 db 0, with a password`) || strings.Contains(out, "pw-SECRET") {
				t.Errorf("the check's Sentinel line:\n%s", out)
			}
			if _, err := check(with(env, "REDIS_URL", "redis+sentinel://:pw-SECRET@sentinel:26379")); err == nil || !strings.Contains(err.Error(), "REDIS_URL: no master name") || strings.Contains(err.Error(), "pw-SECRET") {
				t.Errorf("a REDIS_URL without a master name: %v", err)
			}

			data, err := os.ReadFile(config)
			if err != nil {
				t.Fatal(err)
			}
			needed := map[string]bool{}
			for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllSubmatch(data, -1) {
				needed[string(m[1])] = true
			}
			if len(needed) == 0 {
				t.Fatalf("%s reads no variable without a default: nothing to drop", config)
			}
			names := make([]string, 0, len(needed))
			for n := range needed {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if _, ok := env[n]; !ok {
					t.Errorf("%s reads ${%s}, which compose does not pass to %s", config, n, name)
					continue
				}
				less := map[string]string{}
				for k, v := range env {
					if k != n {
						less[k] = v
					}
				}
				if out, err := check(less); err == nil {
					t.Errorf("without %s the check still passes:\n%s", n, out)
				}
			}
		})
		checked++
	}
	if checked < 2 {
		t.Fatalf("checked %d services; want serve and work", checked)
	}
}

// TestDockerignoreKeepsLocalStateOut: the build context holds no history,
// no demo state, no binaries and no database file at any depth.
func TestDockerignoreKeepsLocalStateOut(t *testing.T) {
	raw, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			have[line] = true
		}
	}
	for _, want := range []string{".git", ".run/", "bin/", "**/*.db", "**/*.db-*"} {
		if !have[want] {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}

// with returns a copy of env with k set to v.
func with(env map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for name, value := range env {
		out[name] = value
	}
	out[k] = v
	return out
}
