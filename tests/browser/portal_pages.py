"""Every portal page, enumerated from the URL resolver, so a new page joins the browser-wide
checks (axe, scroll width, console errors) and `make screenshots` by construction.

A route is a portal page when it lives under /orgs/<org_id>/ or is one of PUBLIC_PAGES;
its other URL parameters are filled with an object of the demo organization (one the person
may see when there is one), and a route that answers GET with 405 is an action, not a page.
"""

import re
from dataclasses import dataclass

from django.urls import URLResolver, get_resolver

from accounts.models import Membership
from chats.models import Webhook
from tokens.models import AccessToken, ApiKey, Application, Kind, RefreshToken, ReviewItem

# Pages outside /orgs/<org_id>/ that people open in the portal's layout.
PUBLIC_PAGES = {"api/docs/scopes/", "invitations/", "login/"}
NOT_PAGES = {"orgs/switch/"}  # the switcher's form target: it only redirects
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Page:
    route: str  # the resolver's route, e.g. orgs/<str:org_id>/developer/tokens/<int:token_id>/
    name: str
    path: str  # the concrete path visited

    @property
    def slug(self):
        """A file-name-safe name for the route (its screenshots are named after it)."""
        text = self.route.removeprefix("orgs/<str:org_id>/")
        text = PARAMETER.sub(lambda m: m.group(1).replace("_id", "").replace("_pk", ""), text)
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "overview"


def routes(patterns=None, prefix=""):
    """(route, name) of every URL pattern, includes walked."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.name


def portal_routes():
    found = []
    for route, name in routes():
        if route in NOT_PAGES:
            continue
        if (route.startswith("orgs/<str:org_id>/") or route in PUBLIC_PAGES) and (
            route,
            name,
        ) not in found:
            found.append((route, name))
    return found


def parameters(org, user):
    """A value for every URL parameter the portal's routes take, from the organization's data."""
    tokens = (
        AccessToken.objects.personal().filter(organization=org).unrevoked().order_by("-created")
    )
    token = tokens.filter(user=user).first() or tokens.first()
    key = ApiKey.objects.live().filter(organization=org).order_by("-created_at").first()
    clients = Application.objects.filter(organization=org).order_by("-created")
    client = clients.filter(created_by=user).first() or clients.first()
    grants = AccessToken.objects.oauth_grants(organization_id=org.pk)
    grant = grants.filter(user=user).first() or grants.first()
    session = (
        RefreshToken.objects.filter(
            access_token__kind=Kind.LOGIN, access_token__organization=org, revoked__isnull=True
        )
        .order_by("-created")
        .first()
    )
    other = (
        Membership.objects.filter(organization=org, user__is_service_account=False)
        .exclude(user=user)
        .exclude(role="admin")
        .order_by("user__email")
        .first()
    )
    return {
        "org_id": org.public_id,
        "token_id": token.pk if token else 0,
        "key_id": key.pk if key else 0,
        "client_pk": client.pk if client else 0,
        "token_pk": grant.pk if grant else 0,
        "session_id": session.token_family if session else "00000000-0000-0000-0000-000000000000",
        "membership_id": other.pk if other else 0,
        "invitation_id": 0,
        "item_id": getattr(ReviewItem.objects.filter(organization=org).first(), "pk", 0),
        "webhook_id": getattr(Webhook.objects.filter(organization=org).first(), "pk", 0),
        "delivery_id": 0,
    }


def portal_pages(org, user, *, anonymous=False):
    """The pages a person (or, with `anonymous`, a visitor) is shown, as concrete paths."""
    values = parameters(org, user) if not anonymous else {}
    pages = []
    for route, name in portal_routes():
        if anonymous != (route == "login/"):
            continue
        path = "/" + PARAMETER.sub(lambda m: str(values[m.group(1)]), route)
        pages.append(Page(route, name or "", path))
    return pages


WIDTHS = (1280, 390)
SERIOUS = {"serious", "critical"}
# Moderate in axe's eyes, but each once confused a newcomer: held to zero like the serious ones.
ALSO_REFUSED = {"heading-order", "empty-table-header"}


class ConsoleWatch:
    """Console errors and uncaught exceptions of a Playwright page, since the last `take()`.

    A page that answers 403 or 404 on purpose makes Chromium log "Failed to load resource"
    for the document itself: that one is the answer under test, not an error of the page.
    """

    def __init__(self, page):
        self.errors = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page = page

    def _console(self, message):
        if message.type != "error":
            return
        location = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and location == self.page.url:
            return
        self.errors.append(f"console: {message.text} ({location})")

    def take(self):
        errors, self.errors = self.errors, []
        return errors


def overflow(page):
    """How many pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def serious_violations(page):
    """axe-core's serious and critical violations on the page, and those of ALSO_REFUSED:
    [(rule id, help, targets)]."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (v["id"], v["help"], [node["target"] for node in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS or v["id"] in ALSO_REFUSED
    ]


DEMO_PEOPLE = ("admin@acme.test", "dev@acme.test", "agent@acme.test", "guest@acme.test")


def answers_get(page, path):
    """False for an action route (405 to GET) or a download (a CSV export): no page to look at."""
    response = page.request.get(path, max_redirects=0)
    if response.status == 405:
        return False
    return "html" in response.headers.get("content-type", "text/html")


# The controls of every table row that cannot be seen without scrolling sideways: right of the
# viewport, or right of a box that scrolls (where a mouse user would have to find the scrollbar).
HIDDEN_TABLE_ACTIONS = """() => {
  const hidden = [];
  for (const control of document.querySelectorAll("main table a, main table button, main table select")) {
    const box = control.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    let right = window.innerWidth;
    for (let up = control.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (["auto", "scroll", "hidden"].includes(style.overflowX) && up.scrollWidth > up.clientWidth + 1) {
        right = Math.min(right, up.getBoundingClientRect().right);
      }
    }
    if (box.right > right + 1) hidden.push((control.textContent || control.name || "").trim().slice(0, 40));
  }
  return hidden;
}"""

# Boxes that scroll sideways but that a keyboard cannot reach: neither focusable themselves nor
# holding anything focusable (axe's scrollable-region-focusable, checked at every width).
UNREACHABLE_SCROLL_REGIONS = """() => {
  const found = [];
  const focusable = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";
  for (const box of document.querySelectorAll("body *")) {
    const style = getComputedStyle(box);
    if (!["auto", "scroll"].includes(style.overflowX) || box.scrollWidth <= box.clientWidth + 1) continue;
    if (box.matches(focusable) || box.querySelector(focusable)) continue;
    found.push(box.id || box.className || box.tagName.toLowerCase());
  }
  return found;
}"""


def hidden_table_actions(page):
    """Names of the table controls that only scrolling sideways would show."""
    return page.evaluate(HIDDEN_TABLE_ACTIONS)


def unreachable_scroll_regions(page):
    """Boxes that scroll sideways with nothing in them the keyboard can focus."""
    return page.evaluate(UNREACHABLE_SCROLL_REGIONS)


def accessible_and_fits(page):
    """No serious axe violation, and nothing scrolls sideways at 390 px (back to 1280 after)."""
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 900})
    assert overflow(page) <= 0
    page.set_viewport_size({"width": 1280, "height": 900})
