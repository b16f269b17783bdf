#!/usr/bin/python3
"""Commit-time writes: what a transaction queued for the write-behind
writers is written with its commit, as the caller's role could never
redirect, or the commit fails with a clear error; an error never poisons
the backend; a commit never waits for a writer that waits for it.

Runs in visittrack_worker, where the writers are attached.  Each check
failed on 722413f (issue "Trust", findings 1, 3, 4 and 12)."""
import threading
import time
import uuid

import psycopg2

from vtfault import check, connect, finish, one, PGPORT

DB = "visittrack_worker"
BIG = "x" * 2000                    # a 2 kB URL and referrer, as in the report
VIEWS = 4000                        # 4000 x 4 kB: more than an 8 MB ring holds
FP = "f" * 32                       # the device's fingerprint (signed-in views keep it)


def app_connect():
    conn = psycopg2.connect(host="127.0.0.1", port=PGPORT, user="vt_app", dbname=DB)
    conn.autocommit = True
    return conn


def setup(admin):
    for sql in (
        "DROP SCHEMA IF EXISTS vt_app CASCADE",
        "DROP ROLE IF EXISTS vt_app",
        "CREATE ROLE vt_app LOGIN",
        "SELECT visittrack.grant_application_role('vt_app')",
        "CREATE SCHEMA vt_app AUTHORIZATION vt_app",
    ):
        one(admin, sql)
    app = app_connect()
    # The planted function: pg_catalog.floor(numeric) is what visittrack's
    # time-on-page statements call.  Whoever runs this one is recorded, and
    # a superuser running it makes vt_app a superuser.
    one(app, "CREATE TABLE vt_app.ran (who text)")
    one(app, """
        CREATE FUNCTION vt_app.floor(numeric) RETURNS numeric LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO vt_app.ran VALUES (current_user);
            IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
                EXECUTE 'ALTER ROLE vt_app SUPERUSER';
            END IF;
            RETURN pg_catalog.floor($1);
        END $$""")
    one(app, "GRANT INSERT ON vt_app.ran TO PUBLIC")
    one(app, "GRANT USAGE ON SCHEMA vt_app TO PUBLIC")
    return app


def new_session(app):
    user = str(uuid.uuid4())
    sid = one(app, "SELECT visittrack.session_start(%s, %s)", (user, "django-" + user))
    return user, sid


def big_transaction(conn, user, sid, n=VIEWS, before_commit=None):
    """n signed-in views in one transaction; returns (commit seconds, error)."""
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SET LOCAL search_path = vt_app, pg_catalog")
    cur.execute("SET LOCAL visittrack.write_behind = on")
    for i in range(n):
        cur.execute("SELECT visittrack.track_page_view(%s, %s, %s, NULL, NULL, %s, %s)",
                    (FP, "/big/%d/%s" % (i, BIG), "https://ref.example/" + BIG, user, sid))
    if before_commit:
        before_commit()
    t0 = time.monotonic()
    error = None
    try:
        conn.commit()
    except psycopg2.Error as e:
        error = e
        conn.rollback()
    conn.autocommit = True
    return time.monotonic() - t0, error


def rows_and_pages(admin, sid):
    one(admin, "SELECT visittrack.flush_writes(30000)")
    rows = one(admin, "SELECT count(*) FROM visittrack.user_page_view WHERE session_id = %s", (sid,))
    pages = one(admin, "SELECT pages_visited FROM visittrack.user_session WHERE session_id = %s", (sid,))
    return rows, pages


def overflow_commit_runs_nothing_of_the_caller(admin, app):
    """Finding 1: the synchronous fallback ran the caller's search_path as the owner."""
    one(admin, "SELECT visittrack.flush_writes(30000)")
    overflowed = int(one(admin, "SELECT visittrack.status()->'write_behind'->>'written_synchronously'"))
    user, sid = new_session(app)
    # some ordinary traffic first, so that the writer has rows of this session
    for i in range(20):
        one(app, "SELECT visittrack.track_page_view(%s, %s, NULL, NULL, NULL, %s, %s)",
            (FP, "/warm/%d" % i, user, sid))
    seconds, error = big_transaction(app, user, sid)
    check(error is None, "a transaction of %d signed-in views with 4 kB of text each commits (%s)"
          % (VIEWS, error))
    check(seconds < 30, "its COMMIT returns in %.1f s, never waiting for the writer (finding 12)"
          % seconds)
    now_overflowed = int(one(admin, "SELECT visittrack.status()->'write_behind'->>'written_synchronously'"))
    check(now_overflowed > overflowed,
          "the queue had no room: %d records written by the commit itself" % (now_overflowed - overflowed))
    check(one(admin, "SELECT count(*) FROM vt_app.ran") == 0,
          "the application role's vt_app.floor(numeric) never ran")
    check(one(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = 'vt_app'") is False,
          "the application role is not a superuser")
    rows, pages = rows_and_pages(admin, sid)
    check(rows == pages == VIEWS + 20, "every view has its row: %s rows, %s pages" % (rows, pages))


def locked_table_fails_the_commit_loudly(admin, app):
    """Finding 4: a failed fallback became a WARNING and the rows were lost."""
    user, sid = new_session(app)
    locker = connect(DB)
    locker.autocommit = False
    locker.cursor().execute("LOCK visittrack.user_page_view IN SHARE MODE")
    try:
        app.cursor().execute("SET lock_timeout = '50ms'")
        seconds, error = big_transaction(app, user, sid, n=2500)
    finally:
        app.cursor().execute("RESET lock_timeout")
        locker.rollback()
        locker.close()
    check(error is not None and error.pgcode == "55P03",
          "with the table locked and lock_timeout 50ms, COMMIT fails with SQLSTATE 55P03 (got %s)"
          % (error.pgcode if error else "a successful commit"))
    check(error is not None and "visittrack" in (error.diag.context or ""),
          "the error's context names visittrack's commit-time writes")
    rows, pages = rows_and_pages(admin, sid)
    check(rows == pages == 0, "nothing of the failed transaction remains: %s rows, %s pages"
          % (rows, pages))


def commit_answers_timeout_and_cancel(admin, app):
    """Finding 12: a commit waiting at commit time answered neither."""
    for how in ("statement_timeout", "pg_cancel_backend"):
        user, sid = new_session(app)
        locker = connect(DB)
        locker.autocommit = False
        locker.cursor().execute("LOCK visittrack.user_page_view IN SHARE MODE")
        pid = one(app, "SELECT pg_backend_pid()")
        timer = None
        try:
            if how == "statement_timeout":
                app.cursor().execute("SET statement_timeout = '1s'")
            else:
                def cancel():
                    time.sleep(1.0)
                    one(admin, "SELECT pg_cancel_backend(%s)", (pid,))
                timer = threading.Thread(target=cancel)
            seconds, error = big_transaction(
                app, user, sid, n=2500, before_commit=timer.start if timer else None)
        finally:
            if timer:
                timer.join()
            app.cursor().execute("RESET statement_timeout")
            locker.rollback()
            locker.close()
        check(error is not None and error.pgcode == "57014" and seconds < 5,
              "a COMMIT blocked on a lock at commit time answers %s: %s after %.1f s"
              % (how, error.pgcode if error else "committed", seconds))
        rows, pages = rows_and_pages(admin, sid)
        check(rows == pages == 0, "and leaves nothing behind: %s rows, %s pages" % (rows, pages))


def errors_do_not_poison_the_backend(admin):
    """Finding 3: 16 failed calls left 'SPI connections nested too deeply'."""
    user = str(uuid.uuid4())
    conn = connect(DB)
    locker = connect(DB)
    locker.autocommit = False
    locker.cursor().execute("LOCK visittrack.user_event IN ACCESS EXCLUSIVE MODE")
    codes = []
    try:
        conn.cursor().execute("SET lock_timeout = '20ms'")
        for _ in range(30):
            try:
                one(conn, "SELECT visittrack.log_event(%s, 'poison.test')", (user,))
                codes.append("ok")
            except psycopg2.Error as e:
                codes.append(e.pgcode)
    finally:
        locker.rollback()
        locker.close()
    check(codes == ["55P03"] * 30, "30 log_event calls in a row fail with lock timeouts (%s)"
          % sorted(set(codes)))
    try:
        event = one(conn, "SELECT visittrack.log_event(%s, 'poison.test')", (user,))
        sid = one(conn, "SELECT visittrack.session_start(%s, 'k-poison')", (user,))
        pages = one(conn, "SELECT visittrack.track_page_view(%s, '/after', NULL, NULL, NULL, %s, %s)",
                    (FP, user, sid))
        ok = event is not None and pages == 1
        detail = "event %s, page %s" % (event, pages)
    except psycopg2.Error as e:
        ok, detail = False, str(e).strip()
    check(ok, "then log_event, session_start and track_page_view work in the same backend (%s)" % detail)
    conn.close()


def main():
    admin = connect(DB)
    app = setup(admin)
    errors_do_not_poison_the_backend(admin)
    overflow_commit_runs_nothing_of_the_caller(admin, app)
    locked_table_fails_the_commit_loudly(admin, app)
    commit_answers_timeout_and_cancel(admin, app)
    app.close()
    one(admin, "DROP SCHEMA vt_app CASCADE")
    admin.close()
    finish()


if __name__ == "__main__":
    main()
