from ..base import VisittrackCommand


class Command(VisittrackCommand):
    help = ("Retention: close idle anonymous sessions, create upcoming partitions and remove "
            "anonymous data older than visittrack.anon_retention (or --retention).")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--retention", default=None,
                            help="an interval, e.g. '90 days' (default: visittrack.anon_retention)")

    def handle(self, *args, **options):
        closed = self.run_sql(options, "SELECT visittrack.finalize_anonymous_sessions()")
        made = self.run_sql(options, "SELECT visittrack.ensure_partitions()")
        removed = self.run_sql(options, "SELECT visittrack.cleanup_anonymous_data(%s::interval)",
                               (options["retention"],))
        self.stdout.write("closed %d idle anonymous sessions, created %d partitions, "
                          "removed %d rows" % (closed, made, removed))
