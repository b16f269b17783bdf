"""User-agent enrichment measured against public corpora.

- uap-core's own tests (Debian package uap-core): browser family on
  test_ua.yaml, OS family on test_os.yaml, device family/brand/model and the
  device type they map to on test_device.yaml.  The device type expected is
  device_type_of() applied to the device uap-core's test names (family
  "Spider" maps to bot), so it measures the parser, not the mapping.
- Bot recall on every example user agent of the npm package
  crawler-user-agents (scripts/test installs it; VT_CRAWLER_JSON), with that
  package's own pattern list enabled (visittrack.crawler_patterns_path: an
  in-sample figure) and, for information, with the Debian sources alone
  (uap-core, ruby-device-detector and the heuristics).  The held-out
  figures, by source, are 55_bot_sources.py's.
- False positives on user agents of real browsers: uap-core cases (tests and
  test_resources) whose expected family is a mainstream browser.

Every corpus goes through SQL in one statement (cases copied into a temporary
table).  Prints the rates; fails below the targets (98% agreement, 99% recall,
at most 0.5% false positives)."""
import os

import uacorpora as uc
import vtfault as vt
from uacorpora import load_cases, load_table, query, rate

UAP = uc.UAP
CRAWLERS = uc.CRAWLERS


def version(case, keys):
    parts = []
    for k in keys:
        if case.get(k) in (None, ""):
            break
        parts.append(str(case[k]))
    return ".".join(parts) if parts else None


def show_misses(rows, limit=5):
    for r in rows[:limit]:
        print("         miss:", r)


conn = vt.connect(crawler_patterns_path="")

# --- browser family (test_ua.yaml) ---------------------------------------
ua_cases = load_cases(UAP + "/tests/test_ua.yaml")
load_table(conn, "ua_cases", ["ua", "family", "version"],
           [(c["user_agent_string"], c["family"], version(c, ["major", "minor", "patch"]))
            for c in ua_cases])
rows = query(conn, """
    SELECT ua, family, version, d->>'browser', d->>'browser_version'
      FROM (SELECT *, visittrack.ua_details(ua) d FROM ua_cases) t ORDER BY n""")
fam_ok = sum(1 for r in rows if r[1] == r[3])
ver_ok = sum(1 for r in rows if r[1] == r[3] and r[2] == r[4])
ua_rate = rate(fam_ok, len(rows))
print("browser family agreement (test_ua.yaml):   %6.2f%%  (%d/%d); with version %.2f%%"
      % (ua_rate, fam_ok, len(rows), rate(ver_ok, len(rows))))
show_misses([r for r in rows if r[1] != r[3]])

# --- OS family (test_os.yaml) --------------------------------------------
os_cases = load_cases(UAP + "/tests/test_os.yaml")
load_table(conn, "os_cases", ["ua", "family", "version"],
           [(c["user_agent_string"], c["family"],
             version(c, ["major", "minor", "patch", "patch_minor"])) for c in os_cases])
rows = query(conn, """
    SELECT ua, family, version, d->>'os', d->>'os_version'
      FROM (SELECT *, visittrack.ua_details(ua) d FROM os_cases) t ORDER BY n""")
fam_ok = sum(1 for r in rows if r[1] == r[3])
ver_ok = sum(1 for r in rows if r[1] == r[3] and r[2] == r[4])
os_rate = rate(fam_ok, len(rows))
print("OS family agreement (test_os.yaml):        %6.2f%%  (%d/%d); with version %.2f%%"
      % (os_rate, fam_ok, len(rows), rate(ver_ok, len(rows))))
show_misses([r for r in rows if r[1] != r[3]])

# --- devices (test_device.yaml) ------------------------------------------
dev_cases = load_cases(UAP + "/tests/test_device.yaml")
load_table(conn, "dev_cases", ["ua", "family", "brand", "model"],
           [(c["user_agent_string"], c["family"], c.get("brand"), c.get("model"))
            for c in dev_cases])
rows = query(conn, """
    SELECT ua, family, brand, model,
           d->>'device_family', d->>'device_brand', d->>'device_model', d->>'device_type',
           visittrack.device_type_of(ua, family, brand, model, d->>'os') AS expected_type
      FROM (SELECT *, visittrack.ua_details(ua) d FROM dev_cases) t ORDER BY n""")
exact = sum(1 for r in rows if (r[1], r[2], r[3]) == (r[4], r[5], r[6]))
type_ok = sum(1 for r in rows if r[7] == r[8])
dev_rate = rate(type_ok, len(rows))
print("device family+brand+model (test_device):   %6.2f%%  (%d/%d)"
      % (rate(exact, len(rows)), exact, len(rows)))
print("device type agreement (test_device.yaml):  %6.2f%%  (%d/%d)"
      % (dev_rate, type_ok, len(rows)))
show_misses([(r[0], r[1], r[8], r[7]) for r in rows if r[7] != r[8]])
by_type = {}
for r in rows:
    by_type[r[8]] = by_type.get(r[8], 0) + 1
print("         expected device types:", dict(sorted(by_type.items())))

# --- bot recall (crawler-user-agents) ------------------------------------
vt.check(bool(CRAWLERS) and os.path.exists(CRAWLERS),
         "crawler-user-agents corpus present (%s)" % (CRAWLERS or "VT_CRAWLER_JSON unset"))
recall = 0.0
examples = uc.crawler_examples()
if examples is not None:
    load_table(conn, "bot_cases", ["ua"], [(u,) for u in examples])
    rows = query(conn, "SELECT ua, visittrack.is_bot(ua) FROM bot_cases ORDER BY n")
    caught = sum(1 for r in rows if r[1])
    print("bot recall, Debian sources only:           %6.2f%%  (%d/%d crawler-user-agents examples)"
          % (rate(caught, len(rows)), caught, len(rows)))
    vt.one(conn, "SET visittrack.crawler_patterns_path = %s", (CRAWLERS,))
    rows = query(conn, "SELECT ua, visittrack.is_bot(ua) FROM bot_cases ORDER BY n")
    caught = sum(1 for r in rows if r[1])
    recall = rate(caught, len(rows))
    print("bot recall, with crawler-user-agents list: %6.2f%%  (%d/%d)"
          % (recall, caught, len(rows)))
    show_misses([r[0] for r in rows if not r[1]], 10)

# --- false positives on real browsers (every pattern list enabled) -------
browser_uas = uc.real_browsers()
load_table(conn, "browser_cases", ["ua", "source"], sorted(browser_uas.items()))
rows = query(conn, """
    SELECT ua, source, d->>'bot_reason'
      FROM (SELECT *, visittrack.ua_details(ua) d FROM browser_cases) t ORDER BY n""")
flagged = [r for r in rows if r[2] is not None]
fp = rate(len(flagged), len(rows))
in_test_ua = [r for r in rows if r[1] == "test_ua.yaml"]
fp_test_ua = rate(sum(1 for r in in_test_ua if r[2] is not None), len(in_test_ua))
print("bot false positives on real browsers:      %6.2f%%  (%d/%d; test_ua.yaml alone %.2f%% of %d)"
      % (fp, len(flagged), len(rows), fp_test_ua, len(in_test_ua)))
reasons = {}
for r in flagged:
    reasons[r[2]] = reasons.get(r[2], 0) + 1
print("         flagged by:", dict(sorted(reasons.items())),
      "(ua-parser: uap-core's own Spider device rules)")
show_misses([(r[0], r[2]) for r in flagged if r[1] == "test_ua.yaml"], 10)
show_misses([(r[0], r[2]) for r in flagged if r[2] != "ua-parser"], 10)

vt.check(ua_rate >= 98.0, "browser family agreement %.2f%% >= 98%%" % ua_rate)
vt.check(os_rate >= 98.0, "OS family agreement %.2f%% >= 98%%" % os_rate)
vt.check(dev_rate >= 98.0, "device type agreement %.2f%% >= 98%%" % dev_rate)
vt.check(recall >= 99.0, "bot recall %.2f%% >= 99%%" % recall)
vt.check(fp <= 0.5, "bot false positives %.2f%% <= 0.5%%" % fp)
vt.finish()
