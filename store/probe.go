package store

import (
	"context"
	"fmt"
)

// ProbeWrite commits a tiny write and reports whether it committed before
// ctx ended: it takes the locks every ingest needs — SQLite's write lock,
// and on PostgreSQL the cases table's row-share lock (so that a table lock
// held elsewhere blocks it) and the audit head's row, in the store's lock
// order — and updates the heartbeat row. A database that answers pings
// while another process holds its write lock fails here. The audit chain
// is left unchanged. It runs in a transaction of its own, not through the
// committers: in a batch, the audit head locked by a write in the middle
// would break the lock order for the writes after it.
func (s *Store) ProbeWrite(ctx context.Context) error {
	err := s.runTx(ctx, false, func(t *tx) error {
		if t.s.dialect == dialectPostgres {
			if _, err := t.exec("SELECT 1 FROM cases WHERE false FOR UPDATE"); err != nil {
				return fmt.Errorf("lock cases: %w", err)
			}
			if _, err := t.exec("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"); err != nil {
				return fmt.Errorf("lock audit head: %w", err)
			}
		}
		if _, err := t.exec("UPDATE heartbeat SET at = ? WHERE id = 1", micros(t.now)); err != nil {
			return fmt.Errorf("update heartbeat: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write probe: %w", err)
	}
	return nil
}
