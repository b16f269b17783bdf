-- pgbench: the ceiling, a bare SELECT 1 through the same settings.
-- The \set costs next to nothing and is there for the latency log: pgbench
-- 15 reuses one clock reading within a state-machine pass, and a script
-- without a meta-command logs a latency of 0 us whenever its reply is
-- already there when the client thread gets back to it (on 2 busy cores,
-- often).  Every workload script starts with a \set too.
\set x 1
SELECT 1;
