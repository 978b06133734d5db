package config

import (
	"regexp"
	"strings"
)

// Entry is one source or connector: name, type and the keys of its type.
type Entry struct {
	// Name is the entry's name; for a source, its route segment
	// (/webhooks/{name}). It must match ^[a-z0-9][a-z0-9_-]{0,62}$.
	Name string
	// Type is the sender or system type (okta, generic, slack…); the sources
	// and connectors packages check it.
	Type string
	// Path is the entry's key path, e.g. "sources[0]", for messages.
	Path string

	settings   map[string]any // every other key: ${VAR} expanded; `x_file` read into `x`
	secretKeys map[string]bool
	line       int
}

// Settings returns a copy of every key of the entry other than name and type,
// for the sources and connectors packages to decode. Secrets are revealed as
// plain strings; lists are []any and mappings map[string]any at every level;
// other values are string, int, float64, bool or nil (a value expanded from
// ${VAR} is always a string). A key given as `x_file` appears as `x`. The map
// is never nil and changing it does not change the Entry.
func (e Entry) Settings() map[string]any {
	out := make(map[string]any, len(e.settings))
	for k, v := range e.settings {
		out[k] = walk(v, reveal)
	}
	return out
}

// IsSecret reports whether the entry's top-level key holds a secret: a known
// secret name (token, secret, client_secret, private_key, credentials,
// api_key, service_user_token, client_state, channel_token, signing_key,
// password, authorization) or a key read from `key_file`. It is false for a
// key the entry does not have or whose value is empty (null).
func (e Entry) IsSecret(key string) bool { return e.secretKeys[key] }

var secretNames = map[string]bool{
	"token": true, "secret": true, "client_secret": true, "private_key": true,
	"credentials": true, "api_key": true, "service_user_token": true,
	"client_state": true, "channel_token": true, "signing_key": true,
	"password": true, "authorization": true, "authorization_header": true,
	"webhook_url": true,
}

// isSecretName reports whether key names a secret, at any level of an entry
// and in any letter case (an http connector's "Authorization" header).
func isSecretName(key string) bool { return secretNames[strings.ToLower(key)] }

// secretMappings are keys every value under which is a secret, whatever its
// own name: an http connector's headers carry API keys under any name
// (X-Api-Key, Private-Token…).
var secretMappings = map[string]bool{"headers": true}

// inSecretMapping reports whether path (e.g. "connectors[4].headers") is a
// mapping whose values are all secrets.
func inSecretMapping(path string) bool {
	i := strings.LastIndexByte(path, '.')
	return secretMappings[strings.ToLower(path[i+1:])]
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// label is an entry's path for messages: "connectors[2] (okta)" when the
// entry has a valid name, its bare path otherwise.
func label(path, name string) string {
	if nameRE.MatchString(name) {
		return path + " (" + name + ")"
	}
	return path
}
