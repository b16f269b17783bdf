"""Login, logout and signup.

Django's auth signals are connected in AppConfig.ready().  Django has no
signup signal: call `record_signup(request, user)` from your signup view
(after the user is saved, before or after login()), or send
`user_signed_up` with request and user.
"""
from django.dispatch import Signal, receiver

from . import sessions
from .conf import config

# Sent by the application's signup flow: user_signed_up.send(sender, request=..., user=...).
user_signed_up = Signal()


def _tracked(request):
    if request is None:
        return False
    visitor = sessions.visitor_of(request)
    return not (config().honour_opt_out and visitor.opted_out)


def on_login(sender, request, user, **kwargs):
    """A new visittrack session, and the anonymous browsing before it linked
    to the user (link_conversion is idempotent)."""
    if not _tracked(request):
        return
    sessions.end(request)
    sessions.start(request, user)
    sessions.link_conversion(request, user)


def on_logout(sender, request, user, **kwargs):
    if request is not None:
        sessions.end(request)


@receiver(user_signed_up)
def on_signup(sender, request, user, **kwargs):
    if _tracked(request):
        sessions.link_conversion(request, user)


def record_signup(request, user):
    """The signup hook: call it once the new user is saved."""
    user_signed_up.send(sender=user.__class__, request=request, user=user)
