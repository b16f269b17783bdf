-- pgbench: a reference, not visittrack: a one-row INSERT committed durably
-- (fsync, synchronous_commit on) through the same settings.  The fastest any
-- write transaction can go on this machine while each waits for its WAL flush.
\set v random(1, 1000000)
INSERT INTO bench.commit_probe (v) VALUES (:v);
