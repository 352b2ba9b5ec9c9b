"""`make screenshots`: a PNG of every portal page at 1280 and 390 px, as each demo person.

Seeds a fresh demo database in screenshots/, serves it on a free local port and drives
Debian's Chromium through it; prints the files written. Pages come from the URL resolver
(tests/browser/portal_pages.py), so a new page gets its screenshots by construction.
"""

import io
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "screenshots"


def _setup_django():
    OUT.mkdir(exist_ok=True)
    database = OUT / "demo.sqlite3"
    database.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault(
        "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
    )  # Playwright's loop shares the thread
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def _serve():
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    server = LiveServerThread("127.0.0.1", _StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server, f"http://127.0.0.1:{server.port}"


def _log_in(page, email, password):
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _shoot(page, path, name, written):
    from tests.browser.portal_pages import WIDTHS, answers_get

    if not answers_get(page, path):
        return
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if width == WIDTHS[0]:
            page.goto(path)
            page.wait_for_load_state("networkidle")
        file = OUT / f"{name}-{width}.png"
        page.screenshot(path=str(file), full_page=True)
        written.append(file.relative_to(ROOT))


def main():
    _setup_django()
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from accounts.models import Organization, User
    from tests.browser.conftest import CHROMIUM, FLAGS
    from tests.browser.portal_pages import DEMO_PEOPLE, portal_pages

    for old in OUT.glob("*.png"):
        old.unlink()
    server, url = _serve()
    org = Organization.objects.get(slug="acme")
    written = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=FLAGS, headless=True
            )
            context = browser.new_context(base_url=url)
            page = context.new_page()
            for p in portal_pages(org, None, anonymous=True):
                _shoot(page, p.path, f"anonymous-{p.slug}", written)
            context.close()
            for email in DEMO_PEOPLE:
                person = email.split("@")[0]
                context = browser.new_context(base_url=url)
                page = context.new_page()
                _log_in(page, email, settings.DEMO_PASSWORD)
                for p in portal_pages(org, User.objects.get(email=email)):
                    _shoot(page, p.path, f"{person}-{p.slug}", written)
                context.close()
            browser.close()
    finally:
        server.terminate()
    for file in written:
        print(file)
    print(f"{len(written)} screenshots in {OUT.relative_to(ROOT)}/", file=sys.stderr)


if __name__ == "__main__":
    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        sys.exit("Chromium is needed: apt-get install -y chromium")
    main()
