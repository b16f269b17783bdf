"""{% load visittrack %}

{% viewing_now community.uuid %}  ->  "3 viewing now (1 signed in, 2 anonymous)"
{% visitor_stats community.uuid as stats %}  ->  stats.total, stats.signed_in, stats.anonymous
"""
from django import template
from django.utils.html import format_html
from django.utils.translation import ngettext

from ..presence import visitor_stats as _stats

register = template.Library()


class Stats:
    def __init__(self, total, signed_in, anonymous):
        self.total, self.signed_in, self.anonymous = total, signed_in, anonymous


@register.simple_tag
def visitor_stats(community_id):
    return Stats(*_stats(community_id))


@register.simple_tag
def viewing_now(community_id):
    total, signed_in, anonymous = _stats(community_id)
    text = ngettext("%(n)d viewing now", "%(n)d viewing now", total) % {"n": total}
    return format_html('<span class="visittrack-viewing-now" data-total="{}" data-signed-in="{}" '
                       'data-anonymous="{}">{} ({} signed in, {} anonymous)</span>',
                       total, signed_in, anonymous, text, signed_in, anonymous)
