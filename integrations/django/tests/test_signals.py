"""Login starts a visittrack session, logout ends it, signup links the
anonymous browsing before it; an expired session is replaced."""
from django.contrib.auth import get_user_model

from visittrack_django.conf import config
from visittrack_django.visitor import user_uuid

from .support import TrackingTestCase, unique_visitor


class Sessions(TrackingTestCase):
    def setUp(self):
        super().setUp()
        self.user = get_user_model().objects.create_user("ada", password="pw-ada-123")
        self.uid = user_uuid(self.user)
        self.visitor = unique_visitor()

    def sessions(self):
        return self.all("SELECT session_id, is_active, pages_visited, username"
                        "  FROM visittrack.user_session WHERE user_id = %s AND started_at >= %s"
                        " ORDER BY started_at", (self.uid, self.since))

    def login(self):
        response = self.client.post("/login/", {"username": "ada", "password": "pw-ada-123"},
                                    **self.visitor)
        self.assertEqual(response.status_code, 302)
        return self.client.session[config().session_field]

    def test_login_starts_logout_ends(self):
        sid = self.login()
        self.assertEqual(self.sessions(), [(sid, True, 0, "ada")])
        self.client.get("/about/", **self.visitor)
        self.client.get("/communities/montreal/", **self.visitor)
        self.assertEqual(self.sessions(), [(sid, True, 2, "ada")])
        self.assertEqual(self.all("SELECT url, url_name, page_type FROM visittrack.user_page_view"
                                  " WHERE session_id = %s ORDER BY id", (sid,)),
                         [("/about/", "about", "about"),
                          ("/communities/montreal/", "community", "community")])
        self.client.post("/logout/", **self.visitor)
        self.assertEqual(self.sessions(), [(sid, False, 2, "ada")])

    def test_signed_in_visitor_viewing_now(self):
        self.login()
        self.client.get("/communities/toronto/", **self.visitor)
        body = self.client.get("/communities/toronto/", **self.visitor).content.decode()
        self.assertIn("1 viewing now (1 signed in, 0 anonymous)", body)

    def test_an_ended_session_is_replaced_by_a_new_one(self):
        # visittrack ends a session after session_ttl (4 h) while the
        # Django session lives on: the next page starts a new one.
        sid = self.login()
        self.one("SELECT visittrack.session_end(%s)", (sid,))
        request = self.client.get("/about/", **self.visitor).wsgi_request
        new_sid = self.client.session[config().session_field]
        self.assertEqual(request.visittrack.pages, 1)
        self.assertEqual(self.sessions(), [(sid, False, 0, "ada"), (new_sid, True, 1, "ada")])

    def test_signup_links_the_anonymous_browsing(self):
        for url in ("/", "/communities/montreal/", "/about/"):
            self.client.get(url, **self.visitor)
        response = self.client.post("/signup/", {"username": "grace", "password": "pw-grace-1"},
                                    **self.visitor)
        self.assertEqual(response.status_code, 302)
        grace = user_uuid(get_user_model().objects.get(username="grace"))
        fp = self.fingerprint(self.visitor)
        converted = self.all("SELECT converted_to_user::text, pages_visited, landing_page"
                             "  FROM visittrack.anonymous_session WHERE device_fingerprint = %s"
                             "   AND session_start >= %s", (fp, self.since))
        self.assertEqual(converted, [(grace, 3, "/")])
        events = self.all("SELECT metadata->>'pages_visited' FROM visittrack.user_event"
                          " WHERE user_id = %s AND event_type = 'account_created'", (grace,))
        self.assertEqual(events, [("3",)])
        # signup logged the user in: a live session
        self.assertEqual(self.one("SELECT count(*) FROM visittrack.user_session"
                                  " WHERE user_id = %s AND is_active", (grace,)), 1)

    def test_user_uuid_is_uuid5_of_the_namespace_and_pk(self):
        import uuid
        self.assertEqual(self.uid, str(uuid.uuid5(config().user_namespace, str(self.user.pk))))
