package config

import (
	"fmt"
	"net/url"
	"slices"

	"gopkg.in/yaml.v3"
)

// The case states a notification can be sent on (yaml notifications.on).
// config imports nothing of ours: these are the words of offboard.State.
var notifyStates = []string{"needs_attention", "awaiting_approval", "completed"}

// defaultNotifyOn is notifications.on when the file leaves it out.
var defaultNotifyOn = []string{"needs_attention", "awaiting_approval"}

// Notifications say whom to tell when a case reaches a state a person must
// see (yaml "notifications"). Empty: nobody is told.
type Notifications struct {
	// Slack are Slack incoming webhooks (yaml "slack": a list of
	// {webhook_url}); the URL is a secret (it is the credential).
	Slack []SlackHook
	// Webhooks are generic receivers (yaml "webhooks": a list of {url,
	// secret}); each body is signed with the Offboarder-Signature scheme.
	Webhooks []Webhook
	// On are the case states that are notified (yaml "on"): any of
	// needs_attention, awaiting_approval, completed; default the first two.
	On []string
}

// SlackHook is one Slack incoming webhook.
type SlackHook struct {
	// WebhookURL is the hook's URL (yaml "webhook_url" or
	// "webhook_url_file"), http or https.
	WebhookURL Secret
}

// Webhook is one generic notification receiver.
type Webhook struct {
	// URL is where the signed JSON is posted (yaml "url"), http or https.
	URL string
	// Secret is the HMAC key of the Offboarder-Signature header (yaml
	// "secret" or "secret_file"), at least 16 characters.
	Secret Secret
}

// Enabled reports whether any destination is configured.
func (n Notifications) Enabled() bool { return len(n.Slack)+len(n.Webhooks) > 0 }

func (p *parser) notifications(n *yaml.Node, out *Notifications) {
	if n = p.mapping("notifications", n); n == nil {
		return
	}
	p.each("notifications", n, func(key string, k, v *yaml.Node) {
		path := "notifications." + key
		switch key {
		case "slack":
			for i, m := range p.list(path, v) {
				s, _ := p.object(fmt.Sprintf("%s[%d]", path, i), m, 0, nil)
				h := SlackHook{WebhookURL: asSecret(s["webhook_url"])}
				p.unknown(fmt.Sprintf("%s[%d]", path, i), m, s, "webhook_url")
				out.Slack = append(out.Slack, h)
			}
		case "webhooks":
			for i, m := range p.list(path, v) {
				s, _ := p.object(fmt.Sprintf("%s[%d]", path, i), m, 0, nil)
				u, _ := s["url"].(string)
				out.Webhooks = append(out.Webhooks, Webhook{URL: u, Secret: asSecret(s["secret"])})
				p.unknown(fmt.Sprintf("%s[%d]", path, i), m, s, "url", "secret")
			}
		case "on":
			on := []string{}
			if v = deref(v); !isNull(v) && v.Kind != yaml.SequenceNode {
				p.fail(path, v, "must be a list of states")
				return
			}
			if v != nil {
				for i, item := range v.Content {
					if s, ok := p.str(fmt.Sprintf("%s[%d]", path, i), item); ok {
						on = append(on, s)
					}
				}
			}
			out.On = on
		default:
			p.fail(path, k, "unknown key (want slack, webhooks or on)")
		}
	})
}

// list returns the mappings of the list n; items that are not mappings are
// reported.
func (p *parser) list(path string, n *yaml.Node) []*yaml.Node {
	if n = deref(n); isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(path, n, "must be a list")
		return nil
	}
	var out []*yaml.Node
	for i, item := range n.Content {
		if item = deref(item); item.Kind != yaml.MappingNode {
			p.fail(fmt.Sprintf("%s[%d]", path, i), item, "must be a mapping")
			continue
		}
		out = append(out, item)
	}
	return out
}

// unknown reports the keys of settings other than known.
func (p *parser) unknown(path string, n *yaml.Node, settings map[string]any, known ...string) {
	for k := range settings {
		if !slices.Contains(known, k) {
			p.fail(path+"."+k, n, "unknown key (want %s)", joinWords(known))
		}
	}
}

func joinWords(w []string) string {
	switch len(w) {
	case 1:
		return w[0]
	case 2:
		return w[0] + " or " + w[1]
	}
	return fmt.Sprint(w)
}

func asSecret(v any) Secret {
	switch s := v.(type) {
	case Secret:
		return s
	case string:
		return Secret(s)
	}
	return ""
}

func (n Notifications) problems() []error {
	var errs []error
	for i, h := range n.Slack {
		if err := checkHookURL(h.WebhookURL.Reveal()); err != "" {
			errs = append(errs, fmt.Errorf("notifications.slack[%d].webhook_url: %s", i, err))
		}
	}
	for i, h := range n.Webhooks {
		if err := checkHookURL(h.URL); err != "" {
			errs = append(errs, fmt.Errorf("notifications.webhooks[%d].url: %s", i, err))
		}
		if len(h.Secret.Reveal()) < 16 {
			errs = append(errs, fmt.Errorf("notifications.webhooks[%d].secret: want at least 16 characters", i))
		}
	}
	seen := map[string]bool{}
	for i, s := range n.On {
		switch {
		case !slices.Contains(notifyStates, s):
			errs = append(errs, fmt.Errorf("notifications.on[%d]: %q is not a state that is notified (want needs_attention, awaiting_approval or completed)", i, s))
		case seen[s]:
			errs = append(errs, fmt.Errorf("notifications.on[%d]: %s is listed twice", i, s))
		}
		seen[s] = true
	}
	return errs
}

// checkHookURL says what is wrong with a receiver's URL, never quoting it
// (a Slack hook's URL is its credential); "" when it is fine.
func checkHookURL(s string) string {
	if s == "" {
		return "is required"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "want an absolute http or https URL"
	}
	if u.User != nil {
		return "must not carry a user or password"
	}
	return ""
}
