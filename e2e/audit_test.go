package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offboarder/offboarder/worker"
)

// An auditor asks the service to prove the record: GET /v1/audit/verify
// recomputes the audit log's hash chain from the database and answers its
// head, which grows as cases happen; a row edited in the database behind
// offboarder's back is named by seq. Admin token only. `offboarder cases
// verify` says the same and exits non-zero on a broken chain.
func TestAuditVerifyEndpoint(t *testing.T) {
	bin := buildOffboarder(t)
	cli := func(t *testing.T, base string, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"cases", "verify", "--url", base}, args...)...)
		cmd.Env = append(os.Environ(), "OFFBOARDER_ADMIN_TOKEN="+adminToken)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		u := dbURL(t)
		reg := prometheus.NewRegistry()
		e := start(t, u, envOptions{relay: 20 * time.Millisecond, auditLog: 20 * time.Millisecond, metrics: worker.NewMetrics(reg)})
		if code, _ := e.admin(http.MethodGet, "/v1/audit/verify", "", nil); code != http.StatusUnauthorized {
			t.Fatalf("without the token: %d", code)
		}
		head := func() (seq float64, hash string) {
			t.Helper()
			code, res := e.admin(http.MethodGet, "/v1/audit/verify", adminToken, nil)
			h, _ := res["head"].(map[string]any)
			if code != http.StatusOK || res["verified"] != true || h == nil {
				t.Fatalf("verify: %d %v", code, res)
			}
			seq, _ = h["seq"].(float64)
			hash, _ = h["hash"].(string)
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
				t.Fatalf("head hash %q", hash)
			}
			return seq, hash
		}
		seq0, _ := head()
		code, res := e.post("hr", body("evt-audit", "alice@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		e.waitCase(res["case_id"].(string))
		seq1, hash1 := head()
		if seq1 <= seq0 {
			t.Fatalf("the head did not move: %v → %v", seq0, seq1)
		}
		if out, err := cli(t, e.URL); err != nil || !strings.Contains(out, "audit log verified") || !strings.Contains(out, hash1) {
			t.Fatalf("cases verify: %v\n%s", err, out)
		}
		// The worker logs the head, so that copies outside the database
		// anchor the chain.
		logged := fmt.Sprintf(`"audit_seq":%d,"audit_hash":"%s","message":"audit head"`, int64(seq1), hash1)
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(e.Log.String(), logged); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the head %d:%s was not logged", int64(seq1), hash1)
			}
		}
		// … and exports its seq, which only grows, and that it verified.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if gauge(reg, "offboarder_audit_head_seq") == seq1 && gauge(reg, "offboarder_audit_chain_verified") == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("offboarder_audit_head_seq = %v, want %v; verified %v", gauge(reg, "offboarder_audit_head_seq"), seq1, gauge(reg, "offboarder_audit_chain_verified"))
			}
		}
		// A head noted earlier (an anchor) is checked against the chain.
		anchor := fmt.Sprintf("%d:%s", int64(seq1), hash1)
		if out, err := cli(t, e.URL, "--anchor", anchor); err != nil || !strings.Contains(out, "anchor "+anchor+" still holds") {
			t.Fatalf("cases verify --anchor: %v\n%s", err, out)
		}
		code, res = e.admin(http.MethodGet, fmt.Sprintf("/v1/audit/verify?seq=%d&hash=%s", int64(seq1)+1000, hash1), adminToken, nil)
		if code != http.StatusOK || res["verified"] != false || !strings.Contains(fmt.Sprint(res["reason"]), "missing") {
			t.Fatalf("an anchor past the end: %d %v", code, res)
		}
		for _, q := range []string{"?seq=1", "?hash=" + hash1, "?seq=0&hash=" + hash1, "?seq=1&hash=ABC", "?seq=x&hash=" + hash1} {
			if code, res := e.admin(http.MethodGet, "/v1/audit/verify"+q, adminToken, nil); code != http.StatusBadRequest || res["error"] == "" {
				t.Errorf("anchor %s: %d %v, want 400 naming the problem", q, code, res)
			}
		}

		// Edit one row behind offboarder's back.
		if _, err := openSQL(t, u).Exec("UPDATE audit SET actor = 'someone-else' WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		code, res = e.admin(http.MethodGet, "/v1/audit/verify", adminToken, nil)
		if code != http.StatusOK || res["verified"] != false || res["first_bad_seq"] != 2.0 || res["reason"] == "" || res["head"] != nil {
			t.Fatalf("after an edit: %d %v (head was %v %s)", code, res, seq1, hash1)
		}
		out, err := cli(t, e.URL)
		if x, ok := err.(*exec.ExitError); !ok || x.ExitCode() != 1 || !strings.Contains(out, "first bad row seq 2") {
			t.Fatalf("cases verify on a broken chain: %v\n%s", err, out)
		}
		// The worker's own check finds it too: an error in the log and the
		// gauge at 0.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if strings.Contains(e.Log.String(), `"audit_seq":2,"reason":"hash does not match the row","message":"the audit chain does not verify`) &&
				gauge(reg, "offboarder_audit_chain_verified") == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the worker did not report the broken chain (offboarder_audit_chain_verified = %v)", gauge(reg, "offboarder_audit_chain_verified"))
			}
		}
	})
}

// gauge reads an unlabelled gauge from reg (-1 when it is not there).
func gauge(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
