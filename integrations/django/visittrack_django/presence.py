"""Who is viewing a community now (visitor_stats), for the template tag
and the dashboard."""
from .conf import config
from .db import query, track

STATS = ("SELECT total_visitors, authenticated_visitors, anonymous_visitors"
         "  FROM visittrack.visitor_stats(%s::uuid)")


def visitor_stats(community_id, alias=None, quiet=True):
    """(total, signed in, anonymous); zeros when the call fails and quiet."""
    alias = alias or config().reporting_database
    if quiet:
        row = track(STATS, (str(community_id),), alias=alias)
    else:
        row = query(STATS, (str(community_id),), fetch="one", alias=alias)
    return tuple(row) if row else (0, 0, 0)
