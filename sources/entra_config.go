package sources

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Config checks shared by the sources that call their sender's API (entra,
// google).

// entraTenantRE is a tenant id (a GUID) or a domain name such as
// contoso.onmicrosoft.com; either names the tenant in the token URL.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
var entraTenantRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// senderErrors collects the config problems of one source, each naming its
// key path.
type senderErrors []error

func (e *senderErrors) add(path, key, format string, a ...any) {
	*e = append(*e, fmt.Errorf("%s.%s: "+format, append([]any{path, key}, a...)...))
}

func (e senderErrors) join() error { return errors.Join(e...) }

// notificationURL checks the public URL the sender is told to post to: the
// sender requires https (plain http is allowed only to a loopback host, for
// the simulator), without credentials or fragment. The sender calls it as
// given, so it must be this source's /webhooks/{name} as the world sees it.
func notificationURL(raw string) error {
	if raw == "" {
		return errors.New("required: this source's public https URL, e.g. https://offboarder.example.com/webhooks/<name>")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return errors.New("not an absolute url")
	case u.User != nil || u.Fragment != "":
		return errors.New("must not hold credentials or a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be an https url (the sender refuses plain http)")
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// printableASCII reports whether s is non-empty printable ASCII without
// spaces: safe in a header, a JSON string and a log line alike.
func printableASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
