# scripts/lib.sh: shared set-up for the demo, the tests and the benchmarks.
#
# Installs what is missing (Debian packages), builds and installs the
# extension, and runs a throwaway PostgreSQL 15 and Redis on free loopback
# ports under one run directory.  Sourced, not executed.

VT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# VT_PGBIN: another (relocated) PostgreSQL 15 tree, e.g. to test two builds side by side
PGBIN=${VT_PGBIN:-/usr/lib/postgresql/15/bin}
export PATH="$PGBIN:$PATH"

VT_PACKAGES=(build-essential postgresql-15 postgresql-server-dev-15 libhiredis-dev
             postgresql-15-cron postgresql-15-pgtap redis-server redis-tools
             python3-psycopg2 python3-redis python3-yaml
             libpcre2-dev libyaml-dev libmaxminddb-dev uap-core ruby-device-detector)

# The commands the scripts call, each with the Debian package that brings it.
# apt-get runs with --no-install-recommends, so a command that Debian ships
# only in a "Recommends" (pg_prove, of postgresql-15-pgtap) must be named
# here and its package installed explicitly.
declare -A VT_COMMANDS=(
    [make]=make [gcc]=gcc [psql]=postgresql-client-15
    [redis-server]=redis-server [redis-cli]=redis-tools
    [/usr/bin/python3]=python3 [perl]=perl
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are not there yet.
vt_install_packages() {
    local missing=() p
    for p in "${VT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # Debian starts a system Redis and PostgreSQL on install; we use our own.
    vt_require_commands
}

# vt_require_commands [command=package ...]: fail at once, naming the
# package, if a command the scripts use is missing after installing.
vt_require_commands() {
    local pair c
    for pair in "$@"; do VT_COMMANDS[${pair%%=*}]=${pair#*=}; done
    for c in "${!VT_COMMANDS[@]}"; do
        command -v "$c" >/dev/null 2>&1 ||
            die "command '$c' not found after installing: Debian package ${VT_COMMANDS[$c]}"
    done
    [ -x "$PGBIN/pg_ctl" ] || die "$PGBIN/pg_ctl not found: Debian package postgresql-15"
    local m
    for m in psycopg2:python3-psycopg2 redis:python3-redis yaml:python3-yaml; do
        /usr/bin/python3 -c "import ${m%%:*}" 2>/dev/null ||
            die "Python module ${m%%:*} missing under /usr/bin/python3: Debian package ${m#*:}"
    done
}

vt_build_install() {
    say "building visittrack"
    make -C "$VT_ROOT" -s PG_CONFIG="$PGBIN/pg_config" >/dev/null
    as_root make -C "$VT_ROOT" -s PG_CONFIG="$PGBIN/pg_config" install >/dev/null
}

vt_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run a command as the owner of the cluster (postgres when we are root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# vt_start_servers NAME [extra postgresql.conf lines...]
# Sets VT_RUN, PGPORT, PGHOST, PGUSER, VT_REDIS_PORT and exports them.
# Redis listens on 127.0.0.1:VT_REDIS_PORT and on the Unix socket
# VT_REDIS_SOCKET; visittrack uses TCP unless VT_REDIS_VIA_SOCKET is set.
vt_start_servers() {
    local name=$1; shift
    VT_RUN=$(mktemp -d "/tmp/visittrack-$name.XXXXXX")
    chmod 755 "$VT_RUN"
    mkdir -p "$VT_RUN/pg" "$VT_RUN/redis"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$VT_RUN/pg" "$VT_RUN"
    PGPORT=$(vt_free_port)
    VT_REDIS_PORT=$(vt_free_port)
    while [ "$VT_REDIS_PORT" = "$PGPORT" ]; do VT_REDIS_PORT=$(vt_free_port); done
    VT_REDIS_SOCKET=$VT_RUN/redis/redis.sock
    export VT_RUN PGPORT VT_REDIS_PORT VT_REDIS_SOCKET PGHOST=127.0.0.1 PGUSER=postgres

    say "starting Redis on 127.0.0.1:$VT_REDIS_PORT"
    vt_start_redis

    say "starting PostgreSQL on 127.0.0.1:$PGPORT ($VT_RUN)"
    as_pg "$PGBIN/initdb" -D "$VT_RUN/pg/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$VT_RUN/initdb.log" 2>&1 ||
        { cat "$VT_RUN/initdb.log"; die "initdb failed"; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PGPORT"
        echo "unix_socket_directories = '$VT_RUN/pg'"
        echo "shared_preload_libraries = 'visittrack,pg_cron'"
        echo "cron.database_name = 'postgres'"
        echo "max_connections = 100"
        echo "fsync = off"
        echo "timezone = 'UTC'"
        echo "log_min_messages = warning"
        echo "visittrack.redis_host = '127.0.0.1'"
        echo "visittrack.redis_port = $VT_REDIS_PORT"
        [ -z "${VT_REDIS_VIA_SOCKET:-}" ] || echo "visittrack.redis_host = '$VT_REDIS_SOCKET'"
        for line in "$@"; do echo "$line"; done
    } >>"$VT_RUN/pg/data/postgresql.conf"
    as_pg "$PGBIN/pg_ctl" -D "$VT_RUN/pg/data" -l "$VT_RUN/pg/server.log" -w start >/dev/null ||
        { cat "$VT_RUN/pg/server.log"; die "PostgreSQL did not start"; }
}

vt_start_redis() {
    redis-server --port "$VT_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --unixsocket "$VT_REDIS_SOCKET" --unixsocketperm 777 \
        --daemonize yes --dir "$VT_RUN/redis" --pidfile "$VT_RUN/redis/redis.pid" \
        --logfile "$VT_RUN/redis/redis.log" >/dev/null
    local i
    for i in $(seq 50); do
        redis-cli -p "$VT_REDIS_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "Redis did not start"
}

vt_stop_redis() {
    redis-cli -p "$VT_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    local i
    for i in $(seq 50); do
        redis-cli -p "$VT_REDIS_PORT" ping >/dev/null 2>&1 || return 0
        sleep 0.1
    done
}

vt_stop_servers() {
    [ -n "${VT_RUN:-}" ] || return 0
    if [ -f "$VT_RUN/pg/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$VT_RUN/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    vt_stop_redis
    if [ -z "${VT_KEEP_RUN:-}" ]; then rm -rf "$VT_RUN"; else say "kept $VT_RUN"; fi
}

vt_psql() {
    psql -X -q -v ON_ERROR_STOP=1 "$@"
}
