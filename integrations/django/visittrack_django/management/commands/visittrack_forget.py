from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ...visitor import user_uuid
from ..base import VisittrackCommand


class Command(VisittrackCommand):
    help = ("Erasure: remove everything visittrack holds about a user (by primary key or "
            "username) or an anonymous device fingerprint, in PostgreSQL and Redis.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="the user's primary key or username")
        who.add_argument("--user-uuid", help="the uuid visittrack knows the user by "
                                             "(for a user already deleted from Django)")
        who.add_argument("--fingerprint", help="an anonymous visitor's fingerprint")

    def handle(self, *args, **options):
        if options["fingerprint"]:
            result = self.run_sql(options, "SELECT visittrack.forget_fingerprint(%s)",
                                  (options["fingerprint"],))
        else:
            uid = options["user_uuid"] or user_uuid(self.find_user(options["user"]))
            result = self.run_sql(options, "SELECT visittrack.forget_user(%s::uuid)", (uid,))
        self.print_json(result)

    def find_user(self, key):
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: key}).first()
        if user is None and key.isdigit():
            user = model._default_manager.filter(pk=key).first()
        if user is None:
            raise CommandError("no user %r" % key)
        return user
