package config

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

type redactedEntry struct {
	Name     string         `yaml:"name"`
	Type     string         `yaml:"type"`
	Settings map[string]any `yaml:",inline"`
}

type redactedConfig struct {
	Sources    []redactedEntry `yaml:"sources"`
	Connectors []redactedEntry `yaml:"connectors"`
	Worker     struct {
		Concurrency       int    `yaml:"concurrency"`
		TaskCheckInterval string `yaml:"task_check_interval"`
		RelayInterval     string `yaml:"relay_interval"`
		ShutdownTimeout   string `yaml:"shutdown_timeout"`
		MaxRetry          int    `yaml:"max_retry"`
	} `yaml:"worker"`
	Policy struct {
		DryRun    bool `yaml:"dry_run"`
		HoldAfter struct {
			Cases  int      `yaml:"cases"`
			Within string   `yaml:"within"`
			Bypass []string `yaml:"bypass"`
		} `yaml:"hold_after"`
		Protected []string            `yaml:"protected"`
		Reasons   map[string][]string `yaml:"reasons,omitempty"`
	} `yaml:"policy"`
	Notifications *redactedNotifications `yaml:"notifications,omitempty"`
	Server        struct {
		IngestTimeout string `yaml:"ingest_timeout"`
	} `yaml:"server"`
}

type redactedNotifications struct {
	Slack    []map[string]string `yaml:"slack,omitempty"`
	Webhooks []map[string]string `yaml:"webhooks,omitempty"`
	On       []string            `yaml:"on"`
}

// Redacted returns the resolved config as YAML, for `offboarder check`: the
// keys as loaded (${VAR} expanded, `x_file` shown as `x`, defaults filled in)
// with every secret, and every item of a secret list, shown as "<secret>".
// Keys of an entry follow name and type in sorted order.
func (c *Config) Redacted() []byte {
	var r redactedConfig
	r.Sources = redactEntries(c.Sources)
	r.Connectors = redactEntries(c.Connectors)
	r.Worker.Concurrency = c.Worker.Concurrency
	r.Worker.TaskCheckInterval = short(c.Worker.TaskCheckInterval)
	r.Worker.RelayInterval = short(c.Worker.RelayInterval)
	r.Worker.ShutdownTimeout = short(c.Worker.ShutdownTimeout)
	r.Worker.MaxRetry = c.Worker.MaxRetry
	r.Server.IngestTimeout = short(c.Server.IngestTimeout)
	r.Policy.DryRun = c.Policy.DryRun
	r.Policy.HoldAfter.Cases = c.Policy.HoldAfter.Cases
	r.Policy.HoldAfter.Within = short(c.Policy.HoldAfter.Within)
	r.Policy.HoldAfter.Bypass = c.Policy.HoldAfter.Bypass
	r.Policy.Protected = c.Policy.Protected
	r.Policy.Reasons = c.Policy.Reasons
	if n := c.Notifications; n.Enabled() {
		r.Notifications = &redactedNotifications{On: n.On}
		for range n.Slack {
			r.Notifications.Slack = append(r.Notifications.Slack, map[string]string{"webhook_url": masked})
		}
		for _, h := range n.Webhooks {
			r.Notifications.Webhooks = append(r.Notifications.Webhooks, map[string]string{"url": h.URL, "secret": masked})
		}
	}

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		// Only a settings value that YAML cannot encode gets here; Parse
		// never produces one.
		return []byte("# cannot show the config: " + err.Error() + "\n")
	}
	_ = enc.Close()
	return b.Bytes()
}

func redactEntries(entries []Entry) []redactedEntry {
	out := make([]redactedEntry, len(entries))
	for i, e := range entries {
		settings := make(map[string]any, len(e.settings))
		for k, v := range e.settings {
			if e.secretKeys[k] {
				settings[k] = maskAll(v)
			} else {
				settings[k] = walk(v, mask)
			}
		}
		out[i] = redactedEntry{Name: e.Name, Type: e.Type, Settings: settings}
	}
	return out
}

// maskAll masks every value under a secret key, whatever its type; Parse
// makes them all Secret, this holds even if it did not.
func maskAll(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = maskAll(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[k] = maskAll(item)
		}
		return out
	}
	return masked
}
