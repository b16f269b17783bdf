# bench/setup.sh: the benchmark's servers and data, shared by bench/run and
# bench/profile.  Sourced after scripts/lib.sh.

# bench_start_servers [extra postgresql.conf lines...]
#
# Benchmark settings (doc/performance.md, "Server settings"): durable like
# production (fsync, synchronous_commit and full_page_writes on), memory
# sized for a small dedicated server, checkpoints spaced so that none falls
# inside a run.  The background worker is off so that nothing but the
# measured calls runs.
bench_start_servers() {
    # Redis on the same machine, reached through its Unix socket: a TCP
    # round trip on loopback costs this VM about a third more
    # (doc/performance.md, "The Redis round trip").
    VT_REDIS_VIA_SOCKET=1 vt_start_servers bench \
        "fsync = on" \
        "synchronous_commit = on" \
        "full_page_writes = on" \
        "shared_buffers = 256MB" \
        "work_mem = 16MB" \
        "maintenance_work_mem = 256MB" \
        "effective_cache_size = 4GB" \
        "random_page_cost = 1.1" \
        "max_wal_size = 8GB" \
        "checkpoint_timeout = 30min" \
        "checkpoint_completion_target = 0.9" \
        "visittrack.worker = off" \
        "visittrack.database = 'bench'" \
        "$@"
}

# Database bench: 90 days of partitions, the application roles, 2,000
# signed-in sessions (bench/sql/setup.sql).
bench_load() {
    vt_psql -d postgres -c "CREATE DATABASE bench" >/dev/null
    vt_psql -d bench -f "$BENCH_DIR/sql/setup.sql" >/dev/null
}
