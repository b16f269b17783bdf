"""Signed-in visittrack sessions, kept beside the Django session.

visittrack's session id is stored in request.session (SESSION_FIELD).  The
key it is derived from is a random token made at each start, not Django's
session key: it works with every session backend (cookie sessions have no
key until saved) and a new visittrack session never reuses an old key.
"""
import secrets

from .conf import config
from .db import track
from .visitor import Visitor, user_uuid


def visitor_of(request):
    visitor = getattr(request, "visittrack", None)
    if visitor is None:
        visitor = request.visittrack = Visitor(request)
    return visitor


def start(request, user):
    """session_start for this user; returns the new session id or None."""
    cfg = config()
    visitor = visitor_of(request)
    remember = bool(cfg.remember_me(request)) if cfg.remember_me else False
    sid = track(
        "SELECT visittrack.session_start(%s::uuid, %s, %s::inet, %s, %s, %s)",
        (user_uuid(user), secrets.token_urlsafe(32), visitor.ip, visitor.user_agent,
         remember, user.get_username()))
    session = getattr(request, "session", None)
    if session is not None:
        if sid:
            session[cfg.session_field] = sid
        else:
            session.pop(cfg.session_field, None)
    return sid


def end(request):
    """session_end for the session stored in request.session, if any."""
    session = getattr(request, "session", None)
    sid = session.pop(config().session_field, None) if session is not None else None
    if sid:
        track("SELECT visittrack.session_end(%s)", (sid,))
    return sid


def current(request):
    session = getattr(request, "session", None)
    return session.get(config().session_field) if session is not None else None


def link_conversion(request, user):
    """link_conversion for this user and the device of this request: the
    anonymous browsing before sign-up (or login) is tied to the user.
    Returns the anonymous session's id or None."""
    visitor = visitor_of(request)
    if visitor.ip is None and visitor.user_agent is None:
        return None
    return track(
        "SELECT visittrack.link_conversion(%s::uuid, visittrack.fingerprint(%s::inet, %s, %s))",
        (user_uuid(user),) + visitor.fingerprint_args())
