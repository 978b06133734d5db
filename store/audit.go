package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Audit actions.
const (
	actionCaseOpened    = "case.opened"
	actionEventAttached = "event.attached"
	actionFannedOut     = "case.fanned_out"
	actionEntryRetry    = "entry.retry"
	actionEntryOutcome  = "entry.outcome"
	actionCaseClosed    = "case.closed"
	actionCaseProtected = "case.protected"
	actionCaseHeld      = "case.held"
	actionCaseApproved  = "case.approved"
)

// genesisHash is the prev_hash of audit row 1.
var genesisHash = strings.Repeat("0", 64)

// AuditError is what VerifyAudit returns for the first link of the chain that
// does not verify.
type AuditError struct {
	Seq    int64  // the first bad (or missing) seq
	Reason string // what is wrong with it
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("store: audit chain broken at seq %d: %s", e.Seq, e.Reason)
}

// auditRecord is an audit row waiting for its seq and hash.
type auditRecord struct {
	caseID, connector, action, actor, detail string
}

// audit queues an audit row; it is appended when the transaction function
// returns, after every other write of the transaction.
func (t *tx) audit(caseID, connector, action, actor, detail string) {
	t.audits = append(t.audits, auditRecord{
		caseID:    caseID,
		connector: clean(connector),
		action:    action,
		actor:     clean(actor),
		detail:    clean(detail),
	})
}

// auditRowsPerInsert bounds the rows of one multi-row INSERT (nine
// parameters each), well inside both databases' parameter limits.
const auditRowsPerInsert = 200

// flushAudit appends the queued audit rows, whatever their number, under
// the audit head's lock: it reads the head's seq and hash, hashes the rows
// onto it, inserts them and moves the head to the last of them. On
// PostgreSQL the head's row lock serialises appends until commit, so seq
// has no gaps (a rolled-back transaction moves the head back too); it is
// taken after every other write of the transaction, so the lock order is
// fixed and the lock is held only for the append and the commit.
func (t *tx) flushAudit() error {
	if len(t.audits) == 0 {
		return nil
	}
	if t.s.dialect == dialectPostgres {
		return t.flushAuditPostgres()
	}
	var last int64
	var prev string
	err := t.queryRow("UPDATE audit_head SET seq = seq + ? WHERE id = 1 RETURNING seq, hash", len(t.audits)).Scan(&last, &prev)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	seq := last - int64(len(t.audits))
	at := micros(t.s.clock()) // taken under the lock: at follows seq
	for chunk := range slices.Chunk(t.audits, auditRowsPerInsert) {
		args := make([]any, 0, 9*len(chunk))
		for _, r := range chunk {
			seq++
			hash := chainHash(prev, seq, at, r.caseID, r.connector, r.action, r.actor, r.detail)
			args = append(args, seq, at, r.caseID, r.connector, r.action, r.actor, r.detail, prev, hash)
			prev = hash
		}
		values := strings.TrimSuffix(strings.Repeat("("+placeholders(9)+"), ", len(chunk)), ", ")
		if _, err := t.exec(`INSERT INTO audit
			(seq, at, case_id, connector, action, actor, detail, prev_hash, hash) VALUES `+values, args...); err != nil {
			return fmt.Errorf("audit append: %w", err)
		}
	}
	if _, err := t.exec("UPDATE audit_head SET hash = ? WHERE id = 1", prev); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	t.audits = nil
	return nil
}

// flushAuditPostgres is flushAudit in two round trips under the lock
// besides the commit, whatever the number of rows: the head read with FOR
// UPDATE (none if the blast-radius guard took the lock already, lockHead),
// then the rows and the head's new seq and hash in one statement — an
// INSERT of the rows as arrays (one statement text for any number of rows,
// prepared once per connection) in a WITH clause, which runs to completion
// whether or not the UPDATE reads it:
// https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING
func (t *tx) flushAuditPostgres() error {
	if err := t.lockHead(); err != nil {
		return err
	}
	seq, prev := t.headSeq, t.headHash
	at := micros(t.s.clock()) // taken under the lock: at follows seq
	n := len(t.audits)
	seqs, ats := make([]int64, n), make([]int64, n)
	cols := [7][]string{} // case_id, connector, action, actor, detail, prev_hash, hash
	for i := range cols {
		cols[i] = make([]string, n)
	}
	for i, r := range t.audits {
		seq++
		hash := chainHash(prev, seq, at, r.caseID, r.connector, r.action, r.actor, r.detail)
		seqs[i], ats[i] = seq, at
		for j, v := range []string{r.caseID, r.connector, r.action, r.actor, r.detail, prev, hash} {
			cols[j][i] = v
		}
		prev = hash
	}
	if _, err := t.exec(`WITH appended AS (
			INSERT INTO audit (seq, at, case_id, connector, action, actor, detail, prev_hash, hash)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]))
		UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`,
		seqs, ats, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], seq, prev); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	t.headSeq, t.headHash = seq, prev
	t.audits = nil
	return nil
}

// lockHead takes the audit head's row lock on PostgreSQL, once per
// transaction, and keeps its seq and hash for flushAuditPostgres. After
// waiting for the lock the row read is the one its holder committed.
func (t *tx) lockHead() error {
	if t.headLocked {
		return nil
	}
	if err := t.queryRow("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").Scan(&t.headSeq, &t.headHash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	t.headLocked = true
	return nil
}

// chainHash is hex(sha256) over prev_hash and the row's fields: each string
// as an 8-byte big-endian length and its bytes, each number as 8 big-endian
// bytes, so that no two different rows encode alike.
func chainHash(prev string, seq, at int64, caseID, connector, action, actor, detail string) string {
	h := sha256.New()
	var n [8]byte
	putString := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	putInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	putString(prev)
	putInt(seq)
	putInt(at)
	putString(caseID)
	putString(connector)
	putString(action)
	putString(actor)
	putString(detail)
	return hex.EncodeToString(h.Sum(nil))
}

const auditCols = "seq, at, case_id, connector, action, actor, detail, prev_hash, hash"

type scanner interface{ Scan(dest ...any) error }

func scanAudit(r scanner) (AuditEntry, error) {
	var a AuditEntry
	var at int64
	err := r.Scan(&a.Seq, &at, &a.CaseID, &a.Connector, &a.Action, &a.Actor, &a.Detail, &a.PrevHash, &a.Hash)
	a.At = fromMicros(at)
	return a, err
}

// AuditHead is where a verified audit chain ends: its last seq (the number
// of rows) and that row's hash, which commits to every row before it. An
// auditor who notes it can later tell that nothing up to it has changed.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// VerifyAudit recomputes the whole hash chain and returns its head, or an
// error naming the first bad seq.
//
// It reads one snapshot. A changed field, a changed hash, a deleted or
// inserted row and a cut-off tail (the rows no longer reach audit_head) are
// all reported as an *AuditError with the first seq that does not verify;
// a database failure is returned as itself. An empty log verifies (seq 0,
// the genesis hash).
func (s *Store) VerifyAudit(ctx context.Context) (AuditHead, error) {
	return s.VerifyAuditAgainst(ctx, AuditHead{})
}

// VerifyAuditAgainst is VerifyAudit that also wants a head noted before
// (an anchor, kept outside the database) to still hold: row anchor.Seq must
// exist with anchor.Hash. A chain rewritten with recomputed hashes verifies
// on its own, but not against a head noted before the rewrite. An anchor
// with seq 0 (nothing noted yet) asks no more than VerifyAudit does.
func (s *Store) VerifyAuditAgainst(ctx context.Context, anchor AuditHead) (AuditHead, error) {
	var head AuditHead
	err := s.read(ctx, func(t *tx) error {
		var headSeq int64
		var headHash string
		if err := t.queryRow("SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		rows, err := t.query("SELECT " + auditCols + " FROM audit ORDER BY seq")
		if err != nil {
			return err
		}
		defer rows.Close()
		want, prev := int64(1), genesisHash
		for rows.Next() {
			a, err := scanAudit(rows)
			if err != nil {
				return err
			}
			switch {
			case a.Seq != want:
				return &AuditError{Seq: want, Reason: fmt.Sprintf("missing (next row has seq %d)", a.Seq)}
			case a.PrevHash != prev:
				return &AuditError{Seq: a.Seq, Reason: "prev_hash does not match the hash of the row before"}
			case chainHash(a.PrevHash, a.Seq, micros(a.At), a.CaseID, a.Connector, a.Action, a.Actor, a.Detail) != a.Hash:
				return &AuditError{Seq: a.Seq, Reason: "hash does not match the row"}
			case a.Seq == anchor.Seq && a.Hash != anchor.Hash:
				return &AuditError{Seq: a.Seq, Reason: "its hash is not the one noted before: the chain up to it was rewritten"}
			}
			prev = a.Hash
			want++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		switch {
		case want-1 < headSeq:
			return &AuditError{Seq: want, Reason: fmt.Sprintf("missing (the head is at seq %d)", headSeq)}
		case want-1 > headSeq:
			return &AuditError{Seq: headSeq + 1, Reason: fmt.Sprintf("beyond the head (seq %d)", headSeq)}
		case prev != headHash:
			return &AuditError{Seq: headSeq, Reason: "hash does not match the head"}
		case anchor.Seq > headSeq:
			return &AuditError{Seq: anchor.Seq, Reason: fmt.Sprintf("missing: noted before, but the chain ends at seq %d", headSeq)}
		}
		head = AuditHead{Seq: headSeq, Hash: headHash}
		return nil
	})
	if err == nil {
		return head, nil
	}
	var broken *AuditError
	if errors.As(err, &broken) {
		return AuditHead{}, err
	}
	return AuditHead{}, fmt.Errorf("store: verify audit: %w", err)
}
