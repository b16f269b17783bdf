-- pgbench: the baseline, a bare SELECT 1 through the same settings.
SELECT 1;
