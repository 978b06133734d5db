package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/tasks"
)

// TestAmbiguousBodiesAre400AndStoreNothing sends, to a running server, a
// generic delivery and an Okta event hook delivery each with a key twice,
// a key in upper case and invalid UTF-8 in a value: each is answered 400
// naming the problem and the key, and nothing is stored or enqueued. Two
// ids that differ only in their invalid bytes (which encoding/json would
// both store as U+FFFD, one a duplicate of the other) are both refused.
// The same deliveries, made whole, are accepted (one case: both name alice).
func TestAmbiguousBodiesAre400AndStoreNothing(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := oktaHookEnv(t, dbURL(t), envOptions{noWorker: true})
		generic := body("evt-strict", "alice@example.com")
		okta := oktaDelivery(t, "strict-uuid-1", e.oktaUserID("alice@example.com"), "alice@example.com")
		send := func(source string, b []byte) (int, map[string]any) {
			if source == "hr" {
				return e.post("hr", b, "")
			}
			code, _, res := e.oktaHook(http.MethodPost, b, oktaHookSecret)
			return code, res
		}
		for _, d := range []struct {
			source, field, path string
			valid               []byte
		}{
			{"hr", `"email":"`, "email", generic},
			{"okta-hook", `"uuid":"`, "data.events[0].uuid", okta},
		} {
			if !bytes.Contains(d.valid, []byte(d.field)) {
				t.Fatalf("%s: the delivery has no %s", d.source, d.field)
			}
			upper := `"` + strings.ToUpper(strings.Trim(d.field, `":`)) + `":"`
			key := strings.Trim(d.field, `":`)
			for _, v := range []struct{ name, with, want string }{
				{"a key twice", d.field + `x",` + d.field, `duplicate key "` + d.path + `"`},
				{"a key in upper case", upper, `key "` + strings.TrimSuffix(d.path, key) + strings.ToUpper(key) + `" is not "` + key + `"`},
				{"invalid UTF-8", d.field + "\xff", `invalid UTF-8 in "` + d.path + `"`},
				{"other invalid UTF-8", d.field + "\xfe", `invalid UTF-8 in "` + d.path + `"`},
			} {
				t.Run(d.source+"/"+v.name, func(t *testing.T) {
					code, res := send(d.source, bytes.Replace(d.valid, []byte(d.field), []byte(v.with), 1))
					if msg, _ := res["error"].(string); code != http.StatusBadRequest || !strings.Contains(msg, v.want) {
						t.Fatalf("want 400 naming %s, got %d %v", v.want, code, res)
					}
					if n := len(e.cases()); n != 0 {
						t.Fatalf("%d cases stored", n)
					}
					if n := e.queued(tasks.QueueOffboard); n != 0 {
						t.Fatalf("%d tasks enqueued", n)
					}
				})
			}
		}
		// Okta is answered 204, as its event hooks expect.
		for source, want := range map[string]int{"hr": http.StatusAccepted, "okta-hook": http.StatusNoContent} {
			b := map[string][]byte{"hr": generic, "okta-hook": okta}[source]
			if code, res := send(source, b); code != want {
				t.Fatalf("%s: the whole delivery: want %d, got %d %v", source, want, code, res)
			}
		}
		if n := len(e.cases()); n != 1 {
			t.Fatalf("want the one case of alice, got %d", n)
		}
	})
}
