"""Public user-agent corpora the enrichment tests measure against, and the
way they are handed to SQL (a temporary table filled by COPY).

- uap-core (Debian package uap-core): tests/*.yaml and test_resources/*.yaml,
  each case a user agent with the family uap-core expects.
- crawler-user-agents (npm, installed by scripts/test; VT_CRAWLER_JSON): the
  example user agents ("instances") of every entry.
- Real browsers: uap-core cases whose expected family is a mainstream
  browser and that name its version."""
import glob
import io
import json
import os

import yaml

UAP = os.environ.get("VT_UAP_DIR", "/usr/share/uap-core")
CRAWLERS = os.environ.get("VT_CRAWLER_JSON", "")

REAL_BROWSERS = {
    "Chrome", "Chrome Mobile", "Chrome Mobile iOS", "Chrome Mobile WebView", "Chromium",
    "Firefox", "Firefox Mobile", "Firefox iOS", "Firefox Beta", "Firefox Alpha",
    "Safari", "Mobile Safari", "Mobile Safari UI/WKWebView", "Edge", "Edge Mobile",
    "IE", "IE Mobile", "Opera", "Opera Mini", "Opera Mobile", "Opera Tablet",
    "Samsung Internet", "UC Browser", "Yandex Browser", "Brave", "Vivaldi", "Amazon Silk",
    "Android", "BlackBerry WebKit", "Maxthon", "QQ Browser", "QQ Browser Mobile",
    "Baidu Browser", "Coc Coc", "Whale", "Puffin", "Pale Moon", "SeaMonkey", "Camino",
    "Konqueror", "Epiphany", "Galeon", "Netscape", "Iceweasel", "Midori", "Dolphin",
    "Nokia Browser", "Silk", "Waterfox", "Sleipnir", "Iron",
}


def load_cases(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)["test_cases"]


def uap_case_files():
    """uap-core's test files: its tests, then its test resources (without
    the unconverted original of pgts_browser_list.yaml)."""
    files = [UAP + "/tests/test_ua.yaml", UAP + "/tests/test_os.yaml",
             UAP + "/tests/test_device.yaml"]
    return files + [p for p in sorted(glob.glob(UAP + "/test_resources/*.yaml"))
                    if not p.endswith("-orig.yaml")]


def real_browsers():
    """{user agent: file it came from} of mainstream browsers' user agents."""
    found = {}
    sources = [UAP + "/tests/test_ua.yaml"] + [p for p in uap_case_files()
                                               if "/test_resources/" in p]
    for path in sources:
        for c in load_cases(path):
            if c.get("family") in REAL_BROWSERS and "major" in c:
                found.setdefault(c["user_agent_string"], os.path.basename(path))
    return found


def crawler_examples():
    """The example user agents of crawler-user-agents, or None without it."""
    if not CRAWLERS or not os.path.exists(CRAWLERS):
        return None
    with open(CRAWLERS, encoding="utf-8") as f:
        return sorted({i for c in json.load(f) for i in c.get("instances", [])})


def load_table(conn, name, columns, rows):
    """Temporary table name(n, columns...) holding rows, via COPY."""
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % name)
        cur.execute("CREATE TEMP TABLE %s (n int, %s)" % (
            name, ", ".join("%s text" % c for c in columns)))
        buf = io.StringIO()
        for i, row in enumerate(rows):
            fields = [str(i)] + ["\\N" if v is None else str(v).replace("\\", "\\\\")
                                 .replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                                 for v in row]
            buf.write("\t".join(fields) + "\n")
        buf.seek(0)
        cur.copy_expert("COPY %s FROM STDIN" % name, buf)


def query(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def rate(ok, total):
    return 100.0 * ok / total if total else 0.0
