"""Records each page view after the view has answered.

Place it after SessionMiddleware and AuthenticationMiddleware.  It runs
after the view, outside the view's ATOMIC_REQUESTS transaction, so in
Django's default autocommit each tracking statement is a transaction of its
own.  A request it skips (method, path, status, opt-out, crawler) touches
no database connection: the checks come first and are pure Python.
"""
import logging

from . import sessions
from .conf import config
from .db import track
from .visitor import Visitor, user_uuid

logger = logging.getLogger("visittrack_django")

ANONYMOUS_VIEW = """
SELECT fp, visittrack.track_page_view(fp, %(url)s, %(referrer)s, %(ua)s, %(ip)s::inet,
                                      NULL, NULL, %(url_name)s, %(page_type)s)
  FROM visittrack.fingerprint(%(ip)s::inet, %(ua)s, %(lang)s) AS fp
"""
SIGNED_IN_VIEW = """
SELECT fp, visittrack.track_page_view(fp, %(url)s, %(referrer)s, %(ua)s, %(ip)s::inet,
                                      %(user_id)s::uuid, %(sid)s, %(url_name)s, %(page_type)s)
  FROM visittrack.fingerprint(%(ip)s::inet, %(ua)s, %(lang)s) AS fp
"""
# Crawlers the cheap Python look missed record nothing either.
NOT_A_BOT = " WHERE NOT visittrack.is_bot(%(ua)s)"

COMMUNITY_VISIT = """
SELECT visittrack.community_visit(%(community_id)s::uuid, %(user_id)s::uuid, %(fp)s,
           %(visitor_division)s::uuid, %(community_division)s::uuid, %(slug)s,
           %(url)s, %(referrer)s, %(ip)s::inet, %(ua)s)
"""


class VisittrackMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.visittrack = Visitor(request)
        response = self.get_response(request)
        try:
            reason = skip_reason(request, response)
            request.visittrack.skipped = reason
            if reason is None:
                record(request)
        except Exception:  # noqa: BLE001 -- a hook's bug must not fail the page either
            logger.exception("visittrack middleware failed")
        return response


def skip_reason(request, response):
    """Why this request is not a page view, or None.  Pure Python."""
    cfg = config()
    visitor = request.visittrack
    if request.method not in cfg.methods:
        return "method"
    path = request.path
    if cfg.exclude_re is not None and cfg.exclude_re.match(path):
        return "path"
    if cfg.include_re is not None and not cfg.include_re.match(path):
        return "path"
    if response.status_code not in cfg.statuses:
        return "status"
    if cfg.honour_opt_out and visitor.opted_out:
        return "opt-out"
    if cfg.skip_bots and visitor.looks_like_bot:
        return "bot"
    if visitor.ip is None and visitor.user_agent is None:
        return "no visitor"
    return None


def page_info(request):
    cfg = config()
    match = getattr(request, "resolver_match", None)
    url_name = match.view_name if match is not None and match.url_name else None
    if cfg.page_type is not None:
        page_type = cfg.page_type(request, match)
    elif url_name in cfg.page_types:
        page_type = cfg.page_types[url_name]
    elif match is not None:
        page_type = match.namespace or match.url_name
    else:
        page_type = None
    return match, url_name, page_type


def record(request):
    cfg = config()
    visitor = request.visittrack
    match, url_name, page_type = page_info(request)
    args = {"url": request.get_full_path(), "referrer": visitor.referrer,
            "ua": visitor.user_agent, "ip": visitor.ip, "lang": visitor.accept_language,
            "url_name": url_name, "page_type": page_type, "user_id": None, "sid": None}
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if signed_in:
        args["user_id"] = user_uuid(user)
        args["sid"] = sessions.current(request) or sessions.start(request, user)
        sql = SIGNED_IN_VIEW
    else:
        sql = ANONYMOUS_VIEW
    if cfg.skip_bots:
        sql += NOT_A_BOT
    row = track(sql, args)
    if row:
        visitor.fingerprint, visitor.pages = row
    if signed_in and row and visitor.pages is None:
        # The visittrack session ended or expired (session_ttl, 4 h by
        # default, is shorter than a Django session): the view was recorded
        # for the user; start a new session and count the page in it.
        sid = sessions.start(request, user)
        if sid:
            visitor.pages = track("SELECT visittrack.session_touch(%s)", (sid,))
    if cfg.community is not None and row:
        community = cfg.community(request, match)
        if community:
            record_community_visit(request, args, community)


def record_community_visit(request, args, community):
    cfg = config()
    division = cfg.visitor_division(request) if cfg.visitor_division and args["user_id"] else None
    track(COMMUNITY_VISIT, dict(
        args, fp=request.visittrack.fingerprint,
        community_id=str(community["community_id"]),
        community_division=_str_or_none(community.get("community_division_id")),
        slug=community.get("community_slug"),
        visitor_division=_str_or_none(division)), fetch=None)


def _str_or_none(value):
    return None if value is None else str(value)
