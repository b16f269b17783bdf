"""The staff dashboard: presence now, top pages, sources, the conversion
funnel, session durations, devices.  Reads through the reporting alias
(VISITTRACK['REPORTING_DATABASE']): a role given grant_reporting_role is
enough.  A section whose query fails (a missing grant, an older extension)
shows why instead of failing the page."""
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.shortcuts import render

from ..conf import config
from ..db import decode, query
from ..presence import visitor_stats
from . import svg

SEARCH = ("google.", "bing.", "duckduckgo.", "yahoo.", "ecosia.", "qwant.", "baidu.", "yandex.")
SOCIAL = ("facebook.", "twitter.", "t.co", "x.com", "linkedin.", "reddit.", "instagram.",
          "mastodon", "youtube.", "tiktok.")


def _days(request):
    try:
        return min(max(int(request.GET.get("days", 7)), 1), 366)
    except ValueError:
        return 7


def _section(sql, params=(), fetch="all"):
    """(rows, None) or (None, error text); each in its own savepoint."""
    alias = config().reporting_database
    try:
        with transaction.atomic(using=alias):
            return query(sql, params, fetch=fetch, alias=alias), None
    except Exception as exc:  # noqa: BLE001 -- shown in the section
        return None, str(exc).strip().splitlines()[0]


def presence_rows():
    cfg = config()
    communities = list(cfg.communities()) if cfg.communities else []
    rows = []
    for community_id, label in communities:
        total, signed_in, anonymous = visitor_stats(community_id, quiet=False)
        rows.append({"label": label, "total": total, "signed_in": signed_in, "anonymous": anonymous})
    rows.sort(key=lambda r: (-r["total"], r["label"]))
    return rows


def channel_of(host):
    if not host or host == "(direct)":
        return "direct"
    host = host.lower()
    if any(s in host for s in SEARCH):
        return "search"
    if any(s in host for s in SOCIAL):
        return "social"
    return "referral"


def _presence_context():
    try:
        rows, error = presence_rows(), None
    except Exception as exc:  # noqa: BLE001
        rows, error = [], str(exc).strip().splitlines()[0]
    return {
        "presence": rows, "presence_error": error,
        "presence_total": sum(r["total"] for r in rows),
        "presence_signed_in": sum(r["signed_in"] for r in rows),
        "presence_anonymous": sum(r["anonymous"] for r in rows),
        "presence_chart": svg.split_bars("presence", [(r["label"], r["signed_in"], r["anonymous"])
                                                      for r in rows if r["total"]][:15]),
        "refresh": config().dashboard_refresh,
    }


@staff_member_required
def presence(request):
    """The presence panel alone, for the page's periodic refresh."""
    return render(request, "visittrack_django/presence.html", _presence_context())


@staff_member_required
def dashboard(request):
    days = _days(request)
    ctx = {"days": days, "day_choices": [1, 7, 30, 90]}
    ctx.update(_presence_context())

    top, ctx["top_error"] = _section(
        "SELECT url_path, page_type, total_views, anonymous_views, authenticated_views,"
        "       unique_visitors FROM visittrack.top_pages(%s, 15)", (days,))
    ctx["top_pages"] = top or []
    ctx["top_chart"] = svg.bars("top-pages", [(r[0], r[2]) for r in top or []])
    latest, _ = _section("SELECT max(date) FROM visittrack.page_analytics", fetch="one")
    ctx["analytics_through"] = latest

    funnel, ctx["funnel_error"] = _section(
        "SELECT sessions, conversions, conversion_rate, avg_pages_before_signup,"
        "       avg_duration_seconds, top_landing_page, top_referrer"
        "  FROM visittrack.conversion_funnel(%s)", (days,), fetch="one")
    if funnel:
        keys = ("sessions", "conversions", "rate", "pages", "duration", "landing", "referrer")
        ctx["funnel"] = dict(zip(keys, funnel))
        ctx["funnel_chart"] = svg.funnel("funnel", [("anonymous sessions", funnel[0]),
                                                    ("signed up", funnel[1])])

    referrers, ctx["referrer_error"] = _section(
        "SELECT referrer, sessions, conversions, conversion_rate"
        "  FROM visittrack.conversion_referrers(%s, 15)", (days,))
    ctx["referrers"] = referrers or []
    ctx["referrer_chart"] = svg.bars("referrers", [(r[0], r[1]) for r in referrers or []])
    channels = {}
    for host, sessions, conversions, _ in referrers or []:
        c = channels.setdefault(channel_of(host), [0, 0])
        c[0] += sessions
        c[1] += conversions
    ctx["channel_chart"] = svg.bars("channels", sorted(((k, v[0]) for k, v in channels.items()),
                                                       key=lambda kv: -kv[1]))

    landing, ctx["landing_error"] = _section(
        "SELECT landing_page, sessions, conversions, conversion_rate"
        "  FROM visittrack.conversion_landing_pages(%s, 10)", (days,))
    ctx["landing"] = landing or []

    durations, ctx["duration_error"] = _section(
        "SELECT visitor_kind, sessions, avg_duration_seconds, avg_pages"
        "  FROM visittrack.session_duration_comparison(%s)", (days,))
    ctx["durations"] = durations or []
    ctx["duration_chart"] = svg.bars("durations", [(r[0], float(r[2] or 0)) for r in durations or []],
                                     colour=svg.COLOURS["signed_in"], unit=" s")

    # No report function gives devices yet: this needs SELECT on
    # anonymous_session, which a reporting role does not have.
    devices, ctx["device_error"] = _section(
        "SELECT coalesce(device_type, 'unknown'), count(*) FROM visittrack.anonymous_session"
        " WHERE session_start >= now() - make_interval(days => %s) AND NOT is_bot"
        " GROUP BY 1 ORDER BY 2 DESC", (days,))
    ctx["device_chart"] = svg.bars("devices", devices or []) if devices else None

    status, ctx["status_error"] = _section("SELECT visittrack.status()", fetch="one")
    ctx["status"] = decode(status) if status else None
    return render(request, "visittrack_django/dashboard.html", ctx)
