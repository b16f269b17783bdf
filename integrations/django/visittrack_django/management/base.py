"""Shared by the visittrack_* commands: they run as the maintenance role
(VISITTRACK['MAINTENANCE_DATABASE']: the extension owner or a superuser),
since aggregation, retention and erasure are not granted to the
application role."""
import json

from django.core.management.base import BaseCommand
from django.db import connections

from ..conf import config
from ..db import decode


class VisittrackCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--database", default=None,
                            help="database alias (default: VISITTRACK['MAINTENANCE_DATABASE'])")

    def run_sql(self, options, sql, params=(), fetch="one"):
        alias = options.get("database") or config().maintenance_database
        with connections[alias].cursor() as cur:
            cur.execute(sql, params)
            if fetch == "all":
                return cur.fetchall()
            row = cur.fetchone()
            return row[0] if row else None

    def print_json(self, value):
        self.stdout.write(json.dumps(decode(value), indent=2, sort_keys=True))
