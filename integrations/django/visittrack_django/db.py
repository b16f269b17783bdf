"""Running visittrack's SQL from Django.

Tracking calls go through `track()`: it never raises.  In autocommit mode
(Django's default outside atomic blocks) one statement is its own
transaction, so a failure cannot touch anything else and no savepoint is
needed: one round trip.  Inside a transaction the application opened
(ATOMIC_REQUESTS, an atomic block, a login view) the call runs in a
savepoint, so a failure rolls back the call only and the application's
transaction goes on; there `visittrack.async_commit` is turned off for the
transaction (SYNC_IN_TRANSACTIONS), or the application's own commit would
become asynchronous.

Django turns off psycopg2's jsonb decoding, so jsonb results arrive as
strings: `decode()` turns them back into Python values.
"""
import json
import logging

from django.db import connections, transaction

from .conf import config

logger = logging.getLogger("visittrack_django")

# Failures seen by track() in this process (for tests and the status command).
failures = {"count": 0, "last": None}


def decode(value):
    """A jsonb result as a Python value (Django hands jsonb over as str)."""
    if isinstance(value, (str, bytes, bytearray)):
        return json.loads(value)
    return value


def _execute(alias, sql, params, fetch):
    with connections[alias].cursor() as cur:
        cur.execute(sql, params)
        if fetch == "one":
            row = cur.fetchone()
            return row[0] if row and len(row) == 1 else row
        if fetch == "all":
            return cur.fetchall()
        return None


def track(sql, params=(), fetch="one", alias=None):
    """Run a tracking statement; on any failure log it and return None."""
    cfg = config()
    alias = alias or cfg.database
    try:
        conn = connections[alias]
        if conn.in_atomic_block:
            if cfg.sync_in_transactions:
                sql = "SET LOCAL visittrack.async_commit = off; " + sql
            with transaction.atomic(using=alias):
                return _execute(alias, sql, params, fetch)
        return _execute(alias, sql, params, fetch)
    except Exception as exc:  # noqa: BLE001 -- tracking must never fail a request
        failures["count"] += 1
        failures["last"] = "%s: %s" % (type(exc).__name__, str(exc).strip())
        logger.warning("visittrack call failed: %s", failures["last"])
        return None


def query(sql, params=(), fetch="all", alias=None):
    """Run a reporting or maintenance statement; errors propagate."""
    return _execute(alias or config().reporting_database, sql, params, fetch)
