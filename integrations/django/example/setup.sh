# Sourced after scripts/lib.sh and vt_start_servers: the example site's
# database, roles and data (scripts/django-demo, scripts/test django).
VT_EXAMPLE_DIR=$VT_ROOT/integrations/django/example

vt_example_manage() {
    (cd "$VT_EXAMPLE_DIR" && /usr/bin/python3 manage.py "$@")
}

vt_example_setup() {
    say "example site: roles site_app and site_reporting, database vt_example"
    vt_psql -d postgres >/dev/null <<'SQL'
DO $$ BEGIN CREATE ROLE site_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE site_reporting LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DROP DATABASE IF EXISTS vt_example;
CREATE DATABASE vt_example OWNER site_app;
ALTER DATABASE vt_example SET visittrack.redis_prefix = 'example:';
SQL
    vt_psql -d vt_example >/dev/null <<'SQL'
CREATE EXTENSION visittrack;
SELECT visittrack.grant_application_role('site_app');
SELECT visittrack.grant_reporting_role('site_reporting');
SQL
    redis-cli -p "$VT_REDIS_PORT" --scan --pattern 'example:*' | xargs -r redis-cli -p "$VT_REDIS_PORT" del >/dev/null
    vt_example_manage migrate -v 0
    vt_example_manage shell -c "from django.contrib.auth.models import User; User.objects.create_superuser('staff', '', 'staff-demo-pass')"
}

# vt_example_serve PORT: runserver in the background; VT_EXAMPLE_PID.
vt_example_serve() {
    local port=$1 i
    (cd "$VT_EXAMPLE_DIR" && exec /usr/bin/python3 manage.py runserver "127.0.0.1:$port" --noreload \
        >"$VT_RUN/example-server.log" 2>&1) &
    VT_EXAMPLE_PID=$!
    for i in $(seq 100); do
        /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/about/')" \
            2>/dev/null && return 0
        sleep 0.2
    done
    cat "$VT_RUN/example-server.log"; die "the example site did not start"
}
