"""What a request says about its visitor: address, user agent, language,
opt-out signals, crawler look, and the user's uuid."""
import ipaddress
import re

from .conf import config

# Cheap look at the user agent, before any database work.  The extension's
# is_bot() (device-detector's list) decides for everything that passes.
_CRAWLER = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|curl/|wget/|python-|httpx|okhttp|go-http-client|"
    r"java/|libwww|facebookexternalhit|scrapy|monitoring",
    re.IGNORECASE)


class Visitor:
    """Computed once per request (request.visittrack)."""

    def __init__(self, request):
        cfg = config()
        meta = request.META
        self.ip = client_ip(meta, cfg.trusted_networks)
        self.user_agent = meta.get("HTTP_USER_AGENT") or None
        self.accept_language = meta.get("HTTP_ACCEPT_LANGUAGE") or None
        self.referrer = meta.get("HTTP_REFERER") or None
        # Global Privacy Control and Do Not Track.  The API has no opt-out
        # argument yet: with HONOUR_OPT_OUT the request is not tracked at
        # all; once the API takes the signal it will be passed through.
        self.gpc = meta.get("HTTP_SEC_GPC", "").strip() == "1"
        self.dnt = meta.get("HTTP_DNT", "").strip() == "1"
        self.opted_out = self.gpc or self.dnt
        self.looks_like_bot = not self.user_agent or bool(_CRAWLER.search(self.user_agent))
        self.fingerprint = None     # filled by the first call that computes it
        self.pages = None           # the count track_page_view returned
        self.skipped = None         # why the middleware did not track, or None

    def fingerprint_args(self):
        return (self.ip, self.user_agent, self.accept_language)


def client_ip(meta, trusted_networks):
    """REMOTE_ADDR, or, when it is a trusted proxy, the nearest address in
    X-Forwarded-For that is not one: the list is read from the right, as
    each proxy appends the address it saw.  A string, or None."""
    remote = _parse(meta.get("REMOTE_ADDR"))
    if remote is None or not _trusted(remote, trusted_networks):
        return str(remote) if remote else None
    forwarded = [_parse(part) for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    for addr in reversed(forwarded):
        if addr is None:
            return None         # a malformed hop: nothing beyond it can be believed
        if not _trusted(addr, trusted_networks):
            return str(addr)
    return str(remote)


def _parse(text):
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:        # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:                      # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(addr, networks):
    return any(addr in net for net in networks)


def user_uuid(user):
    """The uuid visittrack knows this user by (VISITTRACK['USER_UUID'])."""
    return str(config().user_uuid(user))
