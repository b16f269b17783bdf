"""Bot detection measured by source, on corpora the rules were not built from.

Sources of bot rules: uap-core's device rules (family "Spider"), Device
Detector's bots.yml (Debian ruby-device-detector), crawler-user-agents' list
(npm) and our own heuristics (src/enrich/bots.c, always on).

Corpora:
- crawler-user-agents: the example user agents of its entries.
- uap-core: its test cases that are bots: family "Spider" in
  tests/test_device.yaml, and the cases of its other test files that its own
  device rules call "Spider" (without the real browsers' ones).
- Device Detector: Debian ships no test cases of it, so its corpus is the
  bots of the two corpora above that bots.yml matches.  The rules for it
  leave out bots.yml and also the list the example was written for
  (crawler-user-agents, or uap-core's rules).
- Real browsers (false positives): as in 50_ua_conformance.py.

For each corpus the rules are built without its source (the path settings
point elsewhere: an empty pattern path, or a regexes.yaml without rules) and
recall is measured on it; false positives are measured on the browsers with
the same rules.  Every source is run alone once over every user agent and a
rule set's answer is the union of its sources' (bot detection is an OR of
them); one real run of the default configuration checks that.

Prints the table (Markdown, as in doc/enrichment.md); fails when a held-out
recall is below 90 % or a false-positive rate above 0.5 %."""
import os
import sys

import yaml

import uacorpora as uc
import vtfault as vt

RECALL_TARGET = 90.0
FP_TARGET = 0.5

conn = vt.connect(crawler_patterns_path="")
examples = uc.crawler_examples()
vt.check(examples is not None, "crawler-user-agents corpus present (%s)"
         % (uc.CRAWLERS or "VT_CRAWLER_JSON unset"))
if examples is None:
    vt.finish()

full_uap = vt.one(conn, "SELECT current_setting('visittrack.uap_regexes_path')")
dd_path = vt.one(conn, "SELECT boot_val FROM pg_settings WHERE name = 'visittrack.bot_patterns_path'")
# uap-core's rules without its spider rules (device family "Spider"): the
# browser, OS and device rules stay, since the heuristics use what they find
no_uap = os.path.join(vt.RUN, "bot-sources-uap-without-spiders.yaml")
with open(full_uap, encoding="utf-8") as f:
    uap_rules = yaml.load(f, Loader=yaml.CSafeLoader)
uap_rules["device_parsers"] = [r for r in uap_rules["device_parsers"]
                               if r.get("device_replacement") != "Spider"]
with open(no_uap, "w", encoding="utf-8") as f:
    yaml.dump(uap_rules, f, Dumper=yaml.CSafeDumper)
os.chmod(no_uap, 0o644)
# and no ua-parser rules at all, for the pattern lists alone (faster; a
# pattern list's answer does not depend on ua-parser's unless it says Spider)
empty_uap = os.path.join(vt.RUN, "bot-sources-uap-empty.yaml")
with open(empty_uap, "w") as f:
    f.write("user_agent_parsers: []\nos_parsers: []\ndevice_parsers: []\n")
os.chmod(empty_uap, 0o644)

SOURCES = {  # source: (settings that make it the only list, bot_reason it gives)
    "heuristics": ((no_uap, "", ""), None),
    "uap": ((full_uap, "", ""), "ua-parser"),
    "dd": ((empty_uap, dd_path, ""), "patterns"),
    "cua": ((empty_uap, "", uc.CRAWLERS), "patterns"),
}
NAMES = {"uap": "uap-core", "dd": "Device Detector", "cua": "crawler-user-agents",
         "heuristics": "heuristics"}

# --- corpora ----------------------------------------------------------------
browsers = uc.real_browsers()
# user agent -> labelled Spider by uap-core's tests.  test_device.yaml's
# other cases are labelled with another device (which uap-core's rules give:
# 50_ua_conformance.py), so they are no bots of uap-core's and left out.
uap_cases = {}
for path in uc.uap_case_files():
    for c in uc.load_cases(path):
        ua = c["user_agent_string"]
        if path.endswith("test_device.yaml"):
            if c.get("family") == "Spider":
                uap_cases[ua] = True
        else:
            uap_cases.setdefault(ua, False)
every = sorted(set(browsers) | set(examples) | set(uap_cases))


def settings(uap, dd, cua):
    for name, value in (("uap_regexes_path", uap), ("bot_patterns_path", dd),
                        ("crawler_patterns_path", cua)):
        vt.one(conn, "SELECT set_config(%s, %s, false)", ("visittrack." + name, value))


def bot_reasons(src, uas):
    """{user agent: bot_reason} with the settings of src."""
    settings(*SOURCES[src][0])
    uc.load_table(conn, "bot_source_uas", ["ua"], [(u,) for u in uas])
    rows, ms = vt.timed(uc.query, conn, "SELECT ua, visittrack.ua_details(ua)->>'bot_reason' "
                        "FROM bot_source_uas ORDER BY n")
    print("# %-19s alone: %d user agents in %.1f s" % (NAMES[src], len(rows), ms / 1000.0))
    return dict(rows)


# --- each source alone over every user agent of a corpus -----------------------
# uap-core's bots are found first (its rules over all its test cases); the
# other sources only need the corpora's user agents.
flags = {u: set() for u in every}
for ua, r in bot_reasons("uap", every).items():
    if r == "ua-parser":
        flags[ua].add("uap")
browser_set = set(browsers)
uap_bots = sorted(u for u, spider in uap_cases.items()
                  if u not in browser_set and (spider or "uap" in flags[u]))
measured = sorted(browser_set | set(examples) | set(uap_bots))
reasons = {}
for src in ("heuristics", "dd", "cua"):
    for ua, r in bot_reasons(src, measured).items():
        if src == "heuristics":
            if r is not None:
                flags[ua].add(src)
                reasons[ua] = r
        elif r == SOURCES[src][1]:
            flags[ua].add(src)

# the union is what the real configuration answers (the default: uap-core,
# Device Detector and the heuristics)
settings(full_uap, dd_path, "")
rows = uc.query(conn, "SELECT ua, visittrack.is_bot(ua) FROM bot_source_uas ORDER BY n")
differ = [ua for ua, bot in rows if bot != bool(flags[ua] & {"uap", "dd", "heuristics"})]
vt.check(not differ, "the sources' union is the default configuration's answer "
         "(%d of %d differ%s)" % (len(differ), len(rows), ": %r" % differ[:3] if differ else ""))

browser_set = set(browsers)
corpora = [
    ("crawler-user-agents examples", "cua",
     [(u, {"cua"}) for u in examples]),
    ("uap-core bot test cases", "uap", [(u, {"uap"}) for u in uap_bots]),
]
seen = set()
dd_corpus = []
for _, origin, cases in corpora:
    for u, _ in cases:
        if "dd" in flags[u] and u not in seen:
            seen.add(u)
            dd_corpus.append((u, {"dd", origin}))
corpora.append(("Device Detector: bots above that bots.yml matches", "dd", dd_corpus))


def detected(ua, left_out):
    return bool(flags[ua] - left_out)


def browser_fp(left_out):
    hits = [u for u in browsers if detected(u, left_out)]
    return uc.rate(len(hits), len(browsers)), len(hits)


print()
print("| corpus | size | rules built without | recall | false positives on %d browsers |"
      % len(browsers))
print("|---|---|---|---|---|")
failed_targets = []
for name, source, cases in corpora:
    caught = [u for u, left_out in cases if detected(u, left_out)]
    recall = uc.rate(len(caught), len(cases))
    without = NAMES[source] + (" and the example's own list" if source == "dd" else "")
    fp, nfp = browser_fp({source})
    print("| %s | %d | %s | **%.2f%%** | %.2f%% (%d) |"
          % (name, len(cases), without, recall, fp, nfp))
    vt.check(recall >= RECALL_TARGET, "%s: held-out recall %.2f%% >= %.0f%%"
             % (name, recall, RECALL_TARGET))
    vt.check(fp <= FP_TARGET, "%s: false positives %.2f%% <= %.1f%%" % (name, fp, FP_TARGET))
    misses = [u for u, left_out in cases if not detected(u, left_out)]
    for u in misses[:int(os.environ.get("VT_SHOW_MISSES", "5"))]:
        print("<!--   miss: %r -->" % u, file=sys.stderr)
for name, left_out in (("heuristics alone", {"uap", "dd", "cua"}),):
    parts = []
    for cname, _, cases in corpora:
        caught = sum(1 for u, _ in cases if detected(u, left_out))
        parts.append("%s %.2f%%" % (cname.split(":")[0].split(" ")[0], uc.rate(caught, len(cases))))
    fp, nfp = browser_fp(left_out)
    print("| (information) every corpus | | every list: %s | %s | %.2f%% (%d) |"
          % (name, "; ".join(parts), fp, nfp))
fp, nfp = browser_fp(set())
print("| (all sources on) | | nothing | | %.2f%% (%d) |" % (fp, nfp))
vt.check(fp <= FP_TARGET, "every source on: false positives %.2f%% <= %.1f%%" % (fp, FP_TARGET))
by_reason = {}
for u in browsers:
    if "heuristics" in flags[u]:
        by_reason[reasons[u]] = by_reason.get(reasons[u], 0) + 1
print("# browsers the heuristics flag, by reason:", dict(sorted(by_reason.items())))
vt.finish()
