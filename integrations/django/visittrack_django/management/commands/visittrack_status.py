from ...db import failures
from ..base import VisittrackCommand


class Command(VisittrackCommand):
    help = "Print visittrack.status(): Redis, queues, worker, counters (JSON)."

    def handle(self, *args, **options):
        self.print_json(self.run_sql(options, "SELECT visittrack.status()"))
        if failures["count"]:
            self.stderr.write("tracking failures in this process: %d (last: %s)"
                              % (failures["count"], failures["last"]))
