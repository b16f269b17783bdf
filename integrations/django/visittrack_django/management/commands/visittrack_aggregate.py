import datetime

from django.core.management.base import CommandError

from ..base import VisittrackCommand


class Command(VisittrackCommand):
    help = ("Rebuild the daily page_analytics rows (aggregate_page_analytics) of one UTC day, "
            "yesterday by default; the background worker or pg_cron normally does this.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--day", help="YYYY-MM-DD (UTC); default: yesterday (UTC)")
        parser.add_argument("--today", action="store_true",
                            help="today so far (UTC): useful for demos; rerun to refresh")
        parser.add_argument("--days", type=int, default=1,
                            help="this many days ending with --day (backfill)")

    def handle(self, *args, **options):
        if options["today"]:
            last = self.run_sql(options, "SELECT (now() AT TIME ZONE 'UTC')::date")
        elif options["day"]:
            try:
                last = datetime.date.fromisoformat(options["day"])
            except ValueError:
                raise CommandError("--day must be YYYY-MM-DD")
        else:
            last = self.run_sql(options, "SELECT visittrack.utc_yesterday()")
        for back in range(options["days"] - 1, -1, -1):
            day = last - datetime.timedelta(days=back)
            rows = self.run_sql(options, "SELECT visittrack.aggregate_page_analytics(%s)", (day,))
            self.stdout.write("%s: %d page_analytics rows" % (day, rows))
