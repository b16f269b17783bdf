"""A tracking failure never fails a request, nor the request's transaction."""
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings

from visittrack_django import db
from visittrack_django.conf import config

from .support import TrackingTestCase, redis_start, redis_stop, unique_visitor
from .test_middleware import config_values


def broken_uuid(user):
    return "not-a-uuid"


class Failures(TrackingTestCase):
    def test_extension_error_inside_atomic_requests(self):
        # Login runs in the request's transaction (ATOMIC_REQUESTS): the
        # failing session_start (22P02) is rolled back to its savepoint and
        # the login itself (last_login, the session row) commits.
        user = get_user_model().objects.create_user("lin", password="pw-lin-123")
        before = db.failures["count"]
        settings = connections["default"].settings_dict
        settings["ATOMIC_REQUESTS"] = True
        try:
            with override_settings(VISITTRACK=dict(config_values(), USER_UUID=broken_uuid)):
                response = self.client.post("/login/", {"username": "lin", "password": "pw-lin-123"},
                                            **unique_visitor())
        finally:
            settings["ATOMIC_REQUESTS"] = False
        self.assertEqual(response.status_code, 302)
        self.assertGreater(db.failures["count"], before)
        self.assertIn("uuid", db.failures["last"])
        user.refresh_from_db()
        self.assertIsNotNone(user.last_login)
        self.assertEqual(self.client.get("/about/").wsgi_request.user.username, "lin")

    def test_invalid_session_id_in_the_django_session(self):
        get_user_model().objects.create_user("kim", password="pw-kim-123")
        visitor = unique_visitor()
        self.client.post("/login/", {"username": "kim", "password": "pw-kim-123"}, **visitor)
        session = self.client.session
        session[config().session_field] = "bad id\r\nwith spaces"
        session.save()
        before = db.failures["count"]
        self.assertEqual(self.client.get("/about/", **visitor).status_code, 200)
        self.assertGreater(db.failures["count"], before)

    def test_tracking_database_down(self):
        # A separate tracking alias whose server is down (nothing listens on
        # port 1), added here so that Django's own checks never try it.
        connections.databases["broken"] = dict(connections.databases["default"], PORT="1")
        before = db.failures["count"]
        try:
            with override_settings(VISITTRACK=dict(config_values(), DATABASE="broken")):
                response = self.client.get("/about/", **unique_visitor())
        finally:
            connections["broken"].close()
            del connections.databases["broken"]
        self.assertEqual(response.status_code, 200)
        self.assertGreater(db.failures["count"], before)

    def test_redis_down(self):
        visitor = unique_visitor()
        redis_stop()
        try:
            responses = [self.client.get(url, **visitor).status_code
                         for url in ("/", "/communities/montreal/", "/about/")]
        finally:
            redis_start()
        self.assertEqual(responses, [200, 200, 200])
        # The views were recorded all the same (hot state kept in PostgreSQL).
        self.assertEqual(len(self.anonymous_views(self.fingerprint(visitor))), 3)
