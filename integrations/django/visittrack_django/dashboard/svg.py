"""Server-rendered SVG charts: no JavaScript, no chart library.  Each
function returns safe markup with every label escaped."""
from django.utils.html import escape
from django.utils.safestring import mark_safe

COLOURS = {"signed_in": "#2f6fbf", "anonymous": "#e39b2d", "bar": "#3a8f6b", "muted": "#c9d3dc"}
ROW = 26
LABEL_WIDTH = 230
BAR_WIDTH = 360


def _number(value):
    if value is None:
        return "–"
    if isinstance(value, int):
        return "{:,}".format(value)
    return ("%.1f" % float(value)).rstrip("0").rstrip(".")


def _svg(name, height, body, width=LABEL_WIDTH + BAR_WIDTH + 90):
    return mark_safe(
        '<svg class="vt-chart" data-chart="%s" role="img" width="%d" height="%d" '
        'viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="13">%s</svg>'
        % (escape(name), width, height, width, height, "".join(body)))


def _label(y, text, x=LABEL_WIDTH - 8):
    text = str(text)
    short = text if len(text) <= 34 else text[:33] + "…"
    return ('<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">'
            '<title>%s</title>%s</text>' % (x, y, escape(text), escape(short)))


def bars(name, items, colour=COLOURS["bar"], unit=""):
    """Horizontal bars: items are (label, value)."""
    items = list(items)
    if not items:
        return empty(name)
    top = max(float(v or 0) for _, v in items) or 1.0
    body = []
    for i, (label, value) in enumerate(items):
        y = i * ROW + 4
        w = max(1.0, BAR_WIDTH * float(value or 0) / top)
        body.append(_label(y + ROW / 2 - 2, label))
        body.append('<rect class="vt-bar" x="%d" y="%d" width="%.1f" height="%d" fill="%s" rx="2">'
                    '<title>%s: %s%s</title></rect>'
                    % (LABEL_WIDTH, y, w, ROW - 8, colour, escape(label), _number(value), unit))
        body.append('<text x="%.1f" y="%d" dominant-baseline="middle">%s%s</text>'
                    % (LABEL_WIDTH + w + 6, y + ROW / 2 - 2, _number(value), unit))
    return _svg(name, len(items) * ROW + 8, body)


def split_bars(name, items, legend=("signed in", "anonymous")):
    """Stacked bars of two parts: items are (label, signed_in, anonymous)."""
    items = list(items)
    if not items:
        return empty(name)
    top = max((a or 0) + (b or 0) for _, a, b in items) or 1
    body = ['<rect x="%d" y="4" width="12" height="12" fill="%s"/><text x="%d" y="14">%s</text>'
            % (LABEL_WIDTH, COLOURS["signed_in"], LABEL_WIDTH + 16, legend[0]),
            '<rect x="%d" y="4" width="12" height="12" fill="%s"/><text x="%d" y="14">%s</text>'
            % (LABEL_WIDTH + 110, COLOURS["anonymous"], LABEL_WIDTH + 126, legend[1])]
    for i, (label, a, b) in enumerate(items):
        y = 24 + i * ROW
        wa = BAR_WIDTH * (a or 0) / top
        wb = BAR_WIDTH * (b or 0) / top
        body.append(_label(y + ROW / 2 - 2, label))
        body.append('<rect class="vt-bar" x="%d" y="%d" width="%.1f" height="%d" fill="%s">'
                    '<title>%s signed in</title></rect>'
                    % (LABEL_WIDTH, y, wa, ROW - 8, COLOURS["signed_in"], _number(a)))
        body.append('<rect class="vt-bar" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
                    '<title>%s anonymous</title></rect>'
                    % (LABEL_WIDTH + wa, y, wb, ROW - 8, COLOURS["anonymous"], _number(b)))
        body.append('<text x="%.1f" y="%d" dominant-baseline="middle">%s (%s + %s)</text>'
                    % (LABEL_WIDTH + wa + wb + 6, y + ROW / 2 - 2,
                       _number((a or 0) + (b or 0)), _number(a), _number(b)))
    return _svg(name, 24 + len(items) * ROW + 4, body)


def funnel(name, steps):
    """Centred bars narrowing step by step: steps are (label, value)."""
    steps = list(steps)
    top = max(float(v or 0) for _, v in steps) or 1.0
    width = LABEL_WIDTH + BAR_WIDTH + 90
    centre = LABEL_WIDTH + BAR_WIDTH / 2
    body = []
    for i, (label, value) in enumerate(steps):
        y = i * 34 + 4
        w = max(2.0, BAR_WIDTH * float(value or 0) / top)
        body.append(_label(y + 13, label))
        body.append('<rect class="vt-bar" x="%.1f" y="%d" width="%.1f" height="26" fill="%s" rx="3">'
                    '<title>%s: %s</title></rect>'
                    % (centre - w / 2, y, w, COLOURS["signed_in"] if i else COLOURS["muted"],
                       escape(label), _number(value)))
        body.append('<text x="%.1f" y="%d" dominant-baseline="middle">%s</text>'
                    % (centre + w / 2 + 6, y + 13, _number(value)))
    return _svg(name, len(steps) * 34 + 8, body, width)


def empty(name):
    return _svg(name, 30, ['<text x="8" y="19" fill="#777">no data yet</text>'], 300)
