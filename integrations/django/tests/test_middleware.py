"""The middleware records what it should, and nothing for skipped requests."""
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import override_settings

from visittrack_django.conf import config
from visittrack_django.visitor import client_ip

from .support import FIREFOX, TrackingTestCase, unique_visitor


class AnonymousViews(TrackingTestCase):
    def test_views_are_recorded_with_url_name_and_page_type(self):
        visitor = unique_visitor()
        for url in ("/", "/about/?x=1", "/communities/montreal/"):
            self.assertEqual(self.client.get(url, **visitor).status_code, 200)
        fp = self.fingerprint(visitor)
        self.assertEqual(self.anonymous_views(fp), [
            ("/", "home", "home", False),
            ("/about/?x=1", "about", "about", False),
            ("/communities/montreal/", "community", "community", False)])

    def test_page_count_comes_back_on_the_request(self):
        visitor = unique_visitor()
        counts = [self.client.get("/", **visitor).wsgi_request.visittrack.pages for _ in range(3)]
        self.assertEqual(counts, [1, 2, 3])

    def test_a_fixed_visitor_counts_from_one_in_every_run(self):
        # The same device in every run of the suite: without a namespace of
        # its own and a reset between tests, a second run counts on from the
        # first one's hot state (4, 5, 6).
        visitor = {"HTTP_USER_AGENT": FIREFOX, "REMOTE_ADDR": "192.0.2.10"}
        counts = [self.client.get("/", **visitor).wsgi_request.visittrack.pages for _ in range(3)]
        self.assertEqual(counts, [1, 2, 3])

    def test_community_page_counts_the_visitor_as_viewing_now(self):
        visitor = unique_visitor()
        self.client.get("/communities/toronto/", **visitor)
        body = self.client.get("/communities/toronto/", **visitor).content.decode()
        self.assertIn("1 viewing now (0 signed in, 1 anonymous)", body)


class SkippedRequests(TrackingTestCase):
    databases = {"default"}

    def assert_skipped(self, url, reason, method="get", **headers):
        visitor = dict(unique_visitor(), **headers)
        connections["default"].close()
        opened = []

        def count(sender, connection, **kwargs):
            opened.append(connection.alias)

        connection_created.connect(count)
        try:
            response = getattr(self.client, method)(url, **visitor)
        finally:
            connection_created.disconnect(count)
        self.assertEqual(response.wsgi_request.visittrack.skipped, reason)
        self.assertEqual(opened, [], "a skipped request opened a database connection")
        self.assertEqual(self.anonymous_views(self.fingerprint(visitor)), [])

    def test_excluded_path(self):
        self.assert_skipped("/static/app.css", "path")

    def test_redirect_status(self):
        self.assert_skipped("/moved/", "status")

    def test_not_found(self):
        self.assert_skipped("/nowhere/", "status")

    def test_post(self):
        self.assert_skipped("/about/", "method", method="post")

    def test_global_privacy_control(self):
        self.assert_skipped("/about/", "opt-out", HTTP_SEC_GPC="1")

    def test_do_not_track(self):
        self.assert_skipped("/about/", "opt-out", HTTP_DNT="1")

    def test_crawler(self):
        self.assert_skipped("/about/", "bot", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")

    def test_curl_and_an_empty_user_agent(self):
        self.assert_skipped("/about/", "bot", HTTP_USER_AGENT="curl/7.88.1")
        self.assert_skipped("/about/", "bot", HTTP_USER_AGENT="")

    def test_include_paths(self):
        with override_settings(VISITTRACK=dict(config_values(), INCLUDE_PATHS=["/communities/"])):
            self.assert_skipped("/about/", "path")

    def test_crawler_only_the_extension_knows(self):
        # Passes the cheap Python look, caught by visittrack.is_bot() in the
        # same statement: nothing stored.
        visitor = dict(unique_visitor(), HTTP_USER_AGENT="ia_archiver")
        response = self.client.get("/about/", **visitor)
        self.assertIsNone(response.wsgi_request.visittrack.skipped)
        self.assertEqual(self.anonymous_views(self.fingerprint(visitor)), [])


class OptOutNotHonoured(TrackingTestCase):
    def test_recorded_when_the_setting_is_off(self):
        visitor = dict(unique_visitor(), HTTP_SEC_GPC="1")
        with override_settings(VISITTRACK=dict(config_values(), HONOUR_OPT_OUT=False)):
            self.client.get("/about/", **visitor)
        self.assertEqual(len(self.anonymous_views(self.fingerprint(visitor))), 1)


class ClientAddress(TrackingTestCase):
    def test_forwarded_address_behind_a_trusted_proxy(self):
        visitor = dict(unique_visitor(), REMOTE_ADDR="10.0.0.1",
                       HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.3")
        self.client.get("/", **visitor)
        expected = dict(visitor, REMOTE_ADDR="203.0.113.9")
        self.assertEqual(len(self.anonymous_views(self.fingerprint(expected))), 1)

    def test_rules(self):
        trusted = config().trusted_networks
        self.assertEqual(client_ip({"REMOTE_ADDR": "198.51.100.1",
                                    "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, trusted), "198.51.100.1")
        self.assertEqual(client_ip({"REMOTE_ADDR": "10.0.0.1",
                                    "HTTP_X_FORWARDED_FOR": "1.2.3.4, 5.6.7.8"}, trusted), "5.6.7.8")
        self.assertEqual(client_ip({"REMOTE_ADDR": "10.0.0.1",
                                    "HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443"}, trusted), "2001:db8::1")
        self.assertIsNone(client_ip({"REMOTE_ADDR": "10.0.0.1",
                                     "HTTP_X_FORWARDED_FOR": "1.2.3.4, garbage"}, trusted))
        self.assertEqual(client_ip({"REMOTE_ADDR": "10.0.0.1"}, trusted), "10.0.0.1")


def config_values():
    from django.conf import settings
    return dict(settings.VISITTRACK)
