#!/usr/bin/env python3
"""Drives the example site in headless Chromium: browses anonymously,
signs up, browses signed in, then checks that the staff dashboard shows
the right numbers and draws its charts.  Screenshots go to the folder
given (scripts/test: .run/django-browser/).

Expects a fresh example database with no other visitors (scripts/test
django sets it up).

    browser_test.py http://127.0.0.1:PORT SCREENSHOT_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

# HeadlessChrome's own user agent is a crawler to visittrack: browse as the
# desktop Chromium it is.
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(condition, what):
    print(("ok     " if condition else "not ok ") + what)
    if not condition:
        failures.append(what)


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1400,1800",
                 "--user-data-dir=" + profile, "--user-agent=" + USER_AGENT):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def text(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text.strip()


def main():
    base, shots = sys.argv[1].rstrip("/"), sys.argv[2]
    os.makedirs(shots, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="vt-chromium-")
    driver = browser(profile)
    try:
        run(driver, base, shots)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("browser test passed; screenshots in %s" % shots)


def run(driver, base, shots):
    # Anonymous: three pages, one of them a community.
    for path in ("/", "/about/", "/communities/toronto/"):
        driver.get(base + path)
    driver.save_screenshot(os.path.join(shots, "1-anonymous-community.png"))

    # Sign up (the anonymous browsing is linked to the new account).
    driver.find_element(By.ID, "signup-link").click()
    driver.find_element(By.ID, "id_username").send_keys("newcomer")
    driver.find_element(By.ID, "id_password1").send_keys("Browser-test-pass-1")
    driver.find_element(By.ID, "id_password2").send_keys("Browser-test-pass-1")
    driver.find_element(By.ID, "signup-submit").click()
    check(text(driver, "#who") == "newcomer", "signed up and signed in as newcomer")

    # Signed in: Montréal twice (the second view sees the first), Vancouver once.
    driver.get(base + "/communities/montreal/")
    driver.get(base + "/communities/montreal/")
    now = text(driver, ".visittrack-viewing-now")
    check(now == "1 viewing now (1 signed in, 0 anonymous)", "the community page says %r" % now)
    driver.get(base + "/communities/vancouver/")
    driver.save_screenshot(os.path.join(shots, "2-signed-in-community.png"))

    # Log out (ends the visittrack session), then the staff signs in.
    driver.get(base + "/logout/")
    driver.get(base + "/login/?next=/visittrack/")
    driver.find_element(By.ID, "id_username").send_keys("staff")
    driver.find_element(By.ID, "id_password").send_keys("staff-demo-pass")
    driver.find_element(By.ID, "login-submit").click()

    # Today's page analytics, as the nightly job would make them.
    subprocess.run([sys.executable, os.path.join(HERE, "manage.py"), "visittrack_aggregate",
                    "--today", "--database", "maintenance"], check=True)
    driver.get(base + "/visittrack/?days=1")
    driver.save_screenshot(os.path.join(shots, "3-dashboard.png"))
    check_dashboard(driver)


def check_dashboard(driver):
    rows = {r.get_attribute("data-community"): [c.text for c in r.find_elements(By.TAG_NAME, "td")]
            for r in driver.find_elements(By.CSS_SELECTOR, "#vt-presence-table tr[data-community]")}
    # newcomer is in Montréal and Vancouver signed in; Toronto saw the same
    # device anonymously (5-minute window).
    check(rows.get("Montréal") == ["Montréal", "1", "1", "0"], "presence Montréal %s" % rows.get("Montréal"))
    check(rows.get("Vancouver") == ["Vancouver", "1", "1", "0"], "presence Vancouver %s" % rows.get("Vancouver"))
    check(rows.get("Toronto") == ["Toronto", "1", "0", "1"], "presence Toronto %s" % rows.get("Toronto"))
    check(rows.get("Québec") == ["Québec", "0", "0", "0"], "presence Québec %s" % rows.get("Québec"))
    check(text(driver, "#vt-viewing-now") == "3", "3 viewing now in all communities")

    top = {r.find_elements(By.TAG_NAME, "td")[0].text: [c.text for c in r.find_elements(By.TAG_NAME, "td")]
           for r in driver.find_elements(By.CSS_SELECTOR, "#vt-top-pages tr") if r.find_elements(By.TAG_NAME, "td")}
    check(top.get("/communities/montreal/") == ["/communities/montreal/", "community", "2", "0", "2", "1"],
          "top pages: Montréal 2 views, all signed in, 1 visitor: %s" % top.get("/communities/montreal/"))
    check(top.get("/communities/toronto/") == ["/communities/toronto/", "community", "1", "1", "0", "1"],
          "top pages: Toronto 1 anonymous view: %s" % top.get("/communities/toronto/"))

    check(text(driver, "#vt-funnel-sessions") == "1", "funnel: 1 anonymous session")
    check(text(driver, "#vt-funnel-conversions") == "1", "funnel: 1 sign-up")
    durations = {r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[1].text
                 for r in driver.find_elements(By.CSS_SELECTOR, "#vt-durations tr")
                 if r.find_elements(By.TAG_NAME, "td")}
    check(durations.get("authenticated") == "1", "durations: 1 ended signed-in session (%s)" % durations)

    for chart in ("presence", "top-pages", "funnel", "channels", "durations"):
        svg = driver.find_elements(By.CSS_SELECTOR, 'svg[data-chart="%s"]' % chart)
        bars = svg[0].find_elements(By.CSS_SELECTOR, "rect.vt-bar") if svg else []
        size = svg[0].size if svg else {"width": 0, "height": 0}
        check(bars and size["width"] > 100 and size["height"] > 20,
              "chart %s drawn: %d bars, %dx%d" % (chart, len(bars), size["width"], size["height"]))

    # The presence panel refreshes itself (DASHBOARD_REFRESH = 5 s).
    driver.execute_script("document.getElementById('vt-viewing-now').textContent = 'stale'")
    time.sleep(6.5)
    check(text(driver, "#vt-viewing-now") == "3", "the presence panel refreshed itself")


if __name__ == "__main__":
    main()
