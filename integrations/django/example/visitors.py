#!/usr/bin/env python3
"""Scripted visitors for the example site: anonymous browsing from a few
referrers, some sign-ups, signed-in browsing.  Browser user agents
(python-urllib would be a bot) and an X-Forwarded-For address of their own
each (the site trusts 127.0.0.1 as its proxy).

    visitors.py http://127.0.0.1:8000 [visitors]
"""
import http.cookiejar
import random
import re
import sys
import urllib.parse
import urllib.request

AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
]
REFERRERS = [None, None, "https://www.google.com/search?q=montreal+community",
             "https://duckduckgo.com/", "https://www.facebook.com/", "https://news.example.org/story"]
PAGES = ["/", "/communities/montreal/", "/communities/toronto/", "/communities/vancouver/",
         "/communities/quebec/", "/about/"]


class Visitor:
    def __init__(self, base, n, rng):
        self.base, self.rng = base, rng
        self.headers = {"User-Agent": rng.choice(AGENTS), "Accept-Language": "fr-CA,fr;q=0.8",
                        "X-Forwarded-For": "203.0.113.%d" % (n % 250 + 1)}
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.last = rng.choice(REFERRERS)

    def get(self, path):
        headers = dict(self.headers)
        if self.last:
            headers["Referer"] = self.last
        with self.opener.open(urllib.request.Request(self.base + path, headers=headers)) as r:
            body = r.read().decode()
        self.last = self.base + path
        return body

    def post(self, path, fields):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path)).group(1)
        data = urllib.parse.urlencode(dict(fields, csrfmiddlewaretoken=token)).encode()
        headers = dict(self.headers, Referer=self.base + path)
        with self.opener.open(urllib.request.Request(self.base + path, data, headers)) as r:
            r.read()


def main():
    base = sys.argv[1].rstrip("/")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    rng = random.Random(42)
    signups = 0
    for n in range(count):
        v = Visitor(base, n, rng)
        for _ in range(rng.randint(1, 6)):
            v.get(rng.choice(PAGES))
        if rng.random() < 0.3:
            v.post("/signup/", {"username": "visitor%d" % n, "password1": "Vt-demo-%d-pass" % n,
                                "password2": "Vt-demo-%d-pass" % n})
            signups += 1
            for _ in range(rng.randint(1, 4)):
                v.get(rng.choice(PAGES))
    print("%d visitors, %d sign-ups" % (count, signups))


if __name__ == "__main__":
    main()
