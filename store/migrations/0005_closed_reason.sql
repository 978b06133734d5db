-- 0005_closed_reason: why a case closed, in a sentence a person reads: no
-- connected system knows the address, who cancelled it and why. Empty for a
-- case whose entries say it all; cleared when a retry reopens the case.
ALTER TABLE cases ADD COLUMN closed_reason TEXT NOT NULL DEFAULT '';
