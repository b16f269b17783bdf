"""Django integration of the visittrack PostgreSQL extension (doc/django.md)."""


def record_signup(request, user):
    """Call from a signup view once the user is saved: links the visitor's
    anonymous browsing to the new account (link_conversion)."""
    from .signals import record_signup as _record
    _record(request, user)
