package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// someHistory writes a case through its whole life: 7 audit rows.
func someHistory(t *testing.T, s *Store) {
	t.Helper()
	id := openCase(t, s, "ann@example.com")                                                     // 1 case.opened
	ingest(t, s, event("e2", "ann@example.com"))                                                // 2 event.attached
	fanOut(t, s, id, map[string]offboard.Outcome{"a": offboard.Pending, "b": offboard.Pending}) // 3 case.fanned_out
	if err := s.RecordRetry(t.Context(), id, "a", "503"); err != nil {                          // 4 entry.retry
		t.Fatal(err)
	}
	outcome(t, s, id, "a", "verified", "")  // 5 entry.outcome
	outcome(t, s, id, "b", "not_found", "") // 6 entry.outcome, 7 case.closed
}

func TestVerifyAudit(t *testing.T) {
	// tampered writes someHistory, runs the raw tamper and wants VerifyAudit
	// to name seq.
	tampered := func(seq int64, tamper func(t *testing.T, s *Store)) func(t *testing.T, s *Store) {
		return func(t *testing.T, s *Store) {
			someHistory(t, s)
			verify(t, s)
			tamper(t, s)
			_, err := s.VerifyAudit(t.Context())
			var broken *AuditError
			if !errors.As(err, &broken) {
				t.Fatalf("VerifyAudit = %v, want an *AuditError", err)
			}
			if broken.Seq != seq {
				t.Errorf("VerifyAudit names seq %d (%v), want %d", broken.Seq, err, seq)
			}
		}
	}
	runStoreTests(t, []storeTest{
		{"an empty log verifies", func(t *testing.T, s *Store) {
			if head, err := s.VerifyAudit(t.Context()); err != nil || head.Seq != 0 || head.Hash != genesisHash {
				t.Fatalf("VerifyAudit = %+v, %v; want seq 0 and the genesis hash", head, err)
			}
		}},
		{"a case's whole life leaves a chain without gaps that verifies", func(t *testing.T, s *Store) {
			someHistory(t, s)
			head, err := s.VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var last string
			if err := s.db.QueryRowContext(t.Context(), "SELECT hash FROM audit WHERE seq = 7").Scan(&last); err != nil || head != (AuditHead{Seq: 7, Hash: last}) {
				t.Fatalf("head %+v, want seq 7 and the hash of row 7 (%q, %v)", head, last, err)
			}
			if n := count(t, s, "SELECT COUNT(*) FROM audit"); n != 7 {
				t.Errorf("%d audit rows, want 7", n)
			}
			if n := count(t, s, "SELECT MAX(seq) FROM audit"); n != 7 {
				t.Errorf("max seq %d, want 7", n)
			}
			if n := count(t, s, "SELECT seq FROM audit_head"); n != 7 {
				t.Errorf("head seq %d, want 7", n)
			}
		}},
		{"an edited detail breaks its own seq", tampered(3, func(t *testing.T, s *Store) {
			exec(t, s, `UPDATE audit SET detail = '{"connectors":["a"]}' WHERE seq = 3`)
		})},
		{"an edited actor breaks its own seq", tampered(2, func(t *testing.T, s *Store) {
			exec(t, s, "UPDATE audit SET actor = 'admin' WHERE seq = 2")
		})},
		{"an edited time breaks its own seq", tampered(1, func(t *testing.T, s *Store) {
			exec(t, s, "UPDATE audit SET at = at - 1000000 WHERE seq = 1")
		})},
		{"an edited row with a recomputed hash breaks the next seq", tampered(5, func(t *testing.T, s *Store) {
			a, err := scanAudit(s.db.QueryRowContext(t.Context(), s.rebind("SELECT "+auditCols+" FROM audit WHERE seq = ?"), 4))
			if err != nil {
				t.Fatal(err)
			}
			hash := chainHash(a.PrevHash, a.Seq, micros(a.At), a.CaseID, a.Connector, a.Action, a.Actor, "fine")
			exec(t, s, "UPDATE audit SET detail = 'fine', hash = ? WHERE seq = 4", hash)
		})},
		{"a deleted row is reported missing", tampered(3, func(t *testing.T, s *Store) {
			exec(t, s, "DELETE FROM audit WHERE seq = 3")
		})},
		{"a cut-off tail is reported against the head", tampered(6, func(t *testing.T, s *Store) {
			exec(t, s, "DELETE FROM audit WHERE seq >= 6")
		})},
		{"a row beyond the head is reported", tampered(8, func(t *testing.T, s *Store) {
			exec(t, s, `INSERT INTO audit (seq, at, case_id, connector, action, actor, detail, prev_hash, hash)
				SELECT 8, at, case_id, connector, action, actor, detail, hash, hash FROM audit WHERE seq = 7`)
		})},
		// Someone with write access to the database edits row 2 and
		// recomputes every hash after it and the head: the chain verifies
		// on its own, which is why heads are logged and noted elsewhere.
		// The head noted before no longer holds.
		{"a rewritten chain verifies alone but not against a head noted before", func(t *testing.T, s *Store) {
			someHistory(t, s)
			noted, err := s.VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if h, err := s.VerifyAuditAgainst(t.Context(), noted); err != nil || h != noted {
				t.Fatalf("VerifyAuditAgainst(its own head) = %+v, %v; want %+v", h, err, noted)
			}
			prev := genesisHash
			for seq := int64(1); seq <= noted.Seq; seq++ {
				a, err := scanAudit(s.db.QueryRowContext(t.Context(), s.rebind("SELECT "+auditCols+" FROM audit WHERE seq = ?"), seq))
				if err != nil {
					t.Fatal(err)
				}
				if seq == 2 {
					a.Actor = "someone-else"
				}
				hash := chainHash(prev, a.Seq, micros(a.At), a.CaseID, a.Connector, a.Action, a.Actor, a.Detail)
				exec(t, s, "UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?", a.Actor, prev, hash, seq)
				prev = hash
			}
			exec(t, s, "UPDATE audit_head SET hash = ? WHERE id = 1", prev)
			if _, err := s.VerifyAudit(t.Context()); err != nil {
				t.Fatalf("the rewritten chain should verify on its own: %v", err)
			}
			var broken *AuditError
			if _, err := s.VerifyAuditAgainst(t.Context(), noted); !errors.As(err, &broken) || broken.Seq != noted.Seq {
				t.Fatalf("VerifyAuditAgainst(the noted head) = %v, want an *AuditError at seq %d", err, noted.Seq)
			}
			past := AuditHead{Seq: noted.Seq + 1, Hash: noted.Hash}
			if _, err := s.VerifyAuditAgainst(t.Context(), past); !errors.As(err, &broken) || broken.Seq != past.Seq {
				t.Fatalf("VerifyAuditAgainst(a head past the end) = %v, want an *AuditError at seq %d", err, past.Seq)
			}
		}},
	})
}

func TestChainHashIsUnambiguous(t *testing.T) {
	tests := []struct {
		name string
		a, b [5]string
	}{
		{"moving a character between case and connector changes the hash", [5]string{"ab", "c", "x", "y", "z"}, [5]string{"a", "bc", "x", "y", "z"}},
		{"moving a character between actor and detail changes the hash", [5]string{"c", "k", "x", "y|", "z"}, [5]string{"c", "k", "x", "y", "|z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ha := chainHash(genesisHash, 1, 2, tc.a[0], tc.a[1], tc.a[2], tc.a[3], tc.a[4])
			hb := chainHash(genesisHash, 1, 2, tc.b[0], tc.b[1], tc.b[2], tc.b[3], tc.b[4])
			if ha == hb {
				t.Error("two different rows hash alike")
			}
		})
	}
}

// TestAuditAcrossProcesses opens three stores on one database, as three
// processes would, one with the blast-radius guard (which takes the audit
// head's lock before the append), and writes from all at once, several
// audit rows per commit: the chain has every row once, without gaps, and
// verifies.
func TestAuditAcrossProcesses(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := newDatabase(t, d)
			stores := []*Store{openStore(t, u), openStore(t, u), openStore(t, u)}
			guarded(stores[0], 1000)
			const n = 30
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				s := stores[i%len(stores)]
				wg.Go(func() {
					<-start
					res, err := s.Ingest(t.Context(), event(fmt.Sprintf("e%d", i), fmt.Sprintf("p%d@x.com", i))) // case.opened
					if err != nil {
						t.Errorf("Ingest %d: %v", i, err)
						return
					}
					if _, err := s.FanOut(t.Context(), res.CaseID, map[string]offboard.Outcome{"a": offboard.Pending, "b": offboard.Pending}, "worker"); err != nil { // case.fanned_out
						t.Errorf("FanOut %d: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			head, err := stores[1].VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if head.Seq != 2*n {
				t.Errorf("head at seq %d, want %d", head.Seq, 2*n)
			}
			if c := count(t, stores[2], "SELECT COUNT(*) FROM audit"); c != 2*n {
				t.Errorf("%d audit rows, want %d", c, 2*n)
			}
		})
	}
}

// TestAuditManyRowsAtOnce appends more rows in one transaction than one
// INSERT takes on SQLite (auditRowsPerInsert): they are chained in order
// and the head is the last of them.
func TestAuditManyRowsAtOnce(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"450 rows in one commit after one in another chain and verify", func(t *testing.T, s *Store) {
			openCase(t, s, "ann@example.com")
			const rows = 2*auditRowsPerInsert + 50
			err := s.write(t.Context(), "many", func(tx *tx) error {
				for i := range rows {
					tx.audit("", "c", actionEntryOutcome, "test", fmt.Sprintf(`{"n":%d}`, i))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			head, err := s.VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if head.Seq != rows+1 {
				t.Errorf("head at seq %d, want %d", head.Seq, rows+1)
			}
			a, err := scanAudit(s.db.QueryRowContext(t.Context(), s.rebind("SELECT "+auditCols+" FROM audit WHERE seq = ?"), rows+1))
			if err != nil {
				t.Fatal(err)
			}
			if a.Detail != fmt.Sprintf(`{"n":%d}`, rows-1) || a.Hash != head.Hash || time.Since(a.At) > time.Minute {
				t.Errorf("last row %+v, want the last one queued, with the head's hash", a)
			}
		}},
	})
}
