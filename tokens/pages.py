"""The portal's credential pages, written once: the portal twin of `tokens.viewsets`.

Every kind walks the same flow: list (with "create" folded away) → create → the result page
that shows the new secret once (sealed in between, tokens.handoff) → detail → rename → rotate,
confirmed first → delete, confirmed first. A kind subclasses `CredentialPages` and declares
what is its own: its model (reached through the caller's membership, so another
organization's object is a 404 exactly like a missing one), its forms, the service calls, its
labels and URL names; `urls(prefix)` gives its routes under the names they always had.

One template naming rule: a kind's templates live in templates/tokens/<its package>/: the
list page at `list.html`, every fragment at `partials/<page>.html` (list, create, detail,
secret, rotate_confirm, delete_confirm, deleted). The frames are shared: `tokens/pages/page.html`
is the detail, rotate and delete page without htmx around the kind's fragment, and
`tokens/pages/list.html` and `create.html` are the list table and the create form, into
which a kind puts only its columns and its fields (the `kind` in their context is the
kind's pages). A fifth kind is its package (forms, services, a `CredentialPages` subclass,
`urls.py` calling `urls(prefix)`), its templates folder, and one include in tokens/urls.py.

One "do not cache": every page that shows a secret answers through `no_store`
(`accounts.http`), the same header on every kind's result page and webhooks'.
"""

import functools

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import developer_required
from accounts.errors import Refused
from accounts.http import (
    client_ip,
    no_store,
    render_page_or_fragment,
    return_url,
    wants_fragment,
)

from . import handoff, scopes
from .cache import propagation
from .forms import grace_consequence
from .schema import operations_allowed
from .usage.views import attach_sparklines

SKELETON = "tokens/pages/page.html"

# action: (route under the kind's prefix, methods, shows or takes a secret)
ROUTES = {
    "list": ("", ["GET"], False),
    "create": ("new", ["GET", "POST"], True),
    "detail": ("<int:{id}>/", ["GET"], False),
    "secret": ("<int:{id}>/secret", ["GET"], True),
    "rename": ("<int:{id}>/rename", ["POST"], False),
    "rotate_confirm": ("<int:{id}>/rotate/confirm", ["GET"], False),
    "rotate": ("<int:{id}>/rotate", ["POST"], True),
    "delete": ("<int:{id}>/delete", ["GET", "POST"], False),
    "end_overlap": ("<int:{id}>/end-overlap", ["GET", "POST"], False),
}
# A service keyword whose form field is named otherwise: the scope picker gives scope names.
FORM_FIELDS = {"scopes": "scope_names"}
ALLOW = {("GET",): require_GET, ("POST",): require_POST}


def sealed_secret(request, credential, slot):
    """(secret, note) on the first GET of a result page; (None, {}) once shown or expired."""
    shown = handoff.take(request, credential, slot=slot, ip=client_ip(request))
    return shown if shown else (None, {})


def can_do(credential):
    """What a credential may call today: its scopes cut to its account's current membership."""
    member = credential.membership
    if member is None:
        return []
    return operations_allowed(
        scopes.effective(credential.scope, member.role, member.developer_access)
    )


def service_accounts(request):
    """The accounts an admin may create a credential for, besides the organization or themself."""
    if not request.membership.is_admin:
        return ()
    return (
        request.organization.memberships.filter(user__is_service_account=True)
        .select_related("user", "organization")
        .order_by("user__email")
    )


class CredentialPages:
    """One kind's portal pages. Subclasses declare the attributes and the service hooks below."""

    # --- what a kind declares ------------------------------------------------------------
    model = None  # its manager has visible_to(membership)
    name = ""  # URL-name stem: "token" gives token_detail, token_secret, … and the list "tokens"
    url_names = {}  # URL names that do not follow "<name>_<action>"
    routes = {}  # routes that differ from ROUTES
    id_kwarg = ""  # the URL's object id
    object_name = ""  # the object's name in its templates and its services' keyword
    label = ""  # the list's title, e.g. "API keys"
    create_label = ""  # the create form's title and button, e.g. "Create API key"
    noun = ""  # "the previous secret of this <noun>" on the end-overlap page
    rotate_verb = "Rotate"  # in the rotate page's title
    back_to_detail = ()  # pages whose back link is the object's detail page, not the list
    create_form_class = rename_form_class = rotate_form_class = None  # no rotate form: asks nothing
    create_form_name = "form"
    rename_form_name = "rename_form"
    renamed_message = ""
    grace_field = "grace"  # the rotate form's grace period
    rotation_keeps_id = True  # False: the old object leaves the list once rotated
    per_page = 25
    access = staticmethod(developer_required)
    # The services, each called with <object_name>=obj, by= and ip=; create with issuer= and ip=
    # and the form's fields create_fields names. A kind with an end_overlap_service gets the
    # end-overlap page.
    create_service = rename_service = rotate_service = revoke_service = None
    end_overlap_service = None
    create_fields = ()

    # --- what follows from it ------------------------------------------------------------
    @property
    def list_name(self):
        return f"{self.name}s"

    @property
    def sparkline_kind(self):
        return self.name

    @property
    def changed_event(self):
        """Fired on <body> after a write; the list listens for it and reloads itself."""
        return self.list_name.replace("_", "-") + "-changed"

    @property
    def folder(self):
        """templates/tokens/<the kind's package>/ (see the module docstring)."""
        return "tokens/" + type(self).__module__.split(".")[-2]

    @property
    def html_id(self):
        """The stem of its pages' element ids: api-key-list, no-api-keys, …"""
        return self.name.replace("_", "-")

    @property
    def actions(self):
        flow = (
            "list",
            "create",
            "detail",
            "secret",
            "rename",
            "rotate_confirm",
            "rotate",
            "delete",
        )
        return (*flow, "end_overlap") if self.end_overlap_service else flow

    def queryset(self, request):
        """Through the caller's membership: another organization's object is simply not there."""
        visible = self.model.objects.visible_to(request.membership)
        # A QuerySet with for_list() joins what its list and detail show in the same query.
        return visible.for_list() if hasattr(visible, "for_list") else visible

    def create_form(self, request, data=None):
        return self.create_form_class(
            data, membership=request.membership, service_accounts=service_accounts(request)
        )

    def act(self, service, request, obj, **fields):
        """Call one of the kind's services on `obj` as the caller."""
        return service(**{self.object_name: obj}, by=request.user, ip=client_ip(request), **fields)

    def create(self, request, form):
        """Call the kind's creation service; returns Issued (Refused on a rule)."""
        data = form.cleaned_data
        fields = {arg: data.get(FORM_FIELDS.get(arg, arg)) for arg in self.create_fields}
        return self.create_service(issuer=request.membership, ip=client_ip(request), **fields)

    def rename(self, request, obj, form):
        self.act(self.rename_service, request, obj, name=form.cleaned_data["name"])

    def rotate(self, request, obj, form):
        """Call the rotation service; returns Issued."""
        fields = {"grace": form.cleaned_data[self.grace_field]} if form else {}
        return self.act(self.rotate_service, request, obj, **fields)

    def revoke(self, request, obj):
        self.act(self.revoke_service, request, obj)

    def end_overlap(self, request, obj):
        self.act(self.end_overlap_service, request, obj)

    def deleted_message(self, obj):
        raise NotImplementedError

    def detail_context(self, request, obj, **extra):
        return {
            self.object_name: obj,
            "can_do": can_do(obj),
            "rename_form": self.rename_form_class(),
            "rotate_form": self.rotate_form_class(),
            **extra,
        }

    def usage(self, request, obj):
        return {}

    def secret_context(self, request, obj, secret, note):
        return {
            f"new_{self.object_name}": obj,
            "api_me_url": request.build_absolute_uri(reverse("api_me")),
        }

    def rotated_note(self, obj, issued):
        """What the result page says about the secret it replaced."""
        return {"how": "rotated"}

    def rename_form(self, request, obj, data=None):
        return self.rename_form_class(data)

    def renamed(self, request, obj):
        """Extra context of the renamed fragment; the message the page shows after rename."""
        messages.success(request, self.renamed_message)
        return {}

    def rotate_refused(self, form, exc):
        form.add_service_error(exc)
        return {"rotate_form": form}

    def deleted_context(self, obj):
        return {self.object_name: obj}

    def delete_context(self, request, obj):
        return {self.object_name: obj}

    # --- names and URLs ------------------------------------------------------------------
    def url_name(self, action):
        if action == "list":
            return self.list_name
        return self.url_names.get(action, f"{self.name}_{action}")

    def list_url(self, request):
        return reverse(self.list_name, kwargs={"org_id": request.organization.public_id})

    def url(self, request, action, obj):
        kwargs = {"org_id": request.organization.public_id, self.id_kwarg: obj.pk}
        return reverse(self.url_name(action), kwargs=kwargs)

    def slot(self, obj):
        return f"{self.name}:{obj.pk}"

    def template(self, page):
        return f"{self.folder}/partials/{page}.html"

    def urls(self, prefix):
        """The kind's routes, each under its URL name, guarded and limited to its methods."""
        patterns = []
        for action in self.actions:
            route, methods, secret = ROUTES[action]
            route = self.routes.get(action, route).format(id=self.id_kwarg)
            view = self.view(action, methods, secret)
            patterns.append(path(prefix + route, view, name=self.url_name(action)))
        return patterns

    def view(self, action, methods, secret):
        method = getattr(self, f"{action}_view")

        @functools.wraps(method)
        def view(request, **kwargs):
            object_id = kwargs.pop(self.id_kwarg, None)
            kwargs.pop("org_id", None)
            return method(request, object_id) if object_id is not None else method(request)

        view = ALLOW.get(tuple(methods), require_http_methods(methods))(view)
        view = self.access(view)
        # An error report (DEBUG page, admin email) must not print the secret from these frames.
        return sensitive_variables()(view) if secret else view

    # --- rendering -----------------------------------------------------------------------
    def get(self, request, object_id):
        return get_object_or_404(self.queryset(request), pk=object_id)

    def render(self, request, page, context, status=200):
        """The kind's fragment for htmx; else the page skeleton around it."""
        if not wants_fragment(request):
            context = {**self.chrome(request, page, context[self.object_name]), **context}
        return render_page_or_fragment(
            request, SKELETON, self.template(page), context, status=status
        )

    def chrome(self, request, page, obj):
        """What the skeleton says around a fragment: title, back link."""
        back_to_detail = page in self.back_to_detail
        return {
            "fragment": self.template(page),
            "credential": obj,
            "limits": page == "detail",  # the limits editor (tokens.limits) below the detail
            "kind_label": self.label,
            "title_verb": {"rotate_confirm": self.rotate_verb, "delete_confirm": "Delete"}.get(
                page
            ),
            "back_url": self.url(request, "detail", obj)
            if back_to_detail
            else self.list_url(request),
            "back_label": obj.name if back_to_detail else self.label,
        }

    def list_context(self, request):
        page = Paginator(self.queryset(request), self.per_page).get_page(request.GET.get("page"))
        return {"page": attach_sparklines(page, self.sparkline_kind), "kind": self}

    def render_create(self, request, form, status=200):
        context = {self.create_form_name: form, "form_open": True, "kind": self}
        if not wants_fragment(request):
            context.update(self.list_context(request))
        return render_page_or_fragment(
            request, f"{self.folder}/list.html", self.template("create"), context, status=status
        )

    # --- the views -----------------------------------------------------------------------
    def list_view(self, request):
        """The list, and "create" folded away (htmx: the list alone)."""
        context = self.list_context(request)
        if not wants_fragment(request):
            context[self.create_form_name] = self.create_form(request)
        return render_page_or_fragment(
            request, f"{self.folder}/list.html", self.template("list"), context
        )

    def create_view(self, request):
        """GET: the page with the form open (htmx: the form alone). POST: create, then 303 to the result page."""
        if request.method == "GET":
            return self.render_create(request, self.create_form(request))
        submission = handoff.Submission(request)
        if submission.repeated:
            return submission.redirect_to_first(self.list_url(request))
        form = self.create_form(request, request.POST)
        if form.is_valid():
            try:
                issued = self.create(request, form)
            except Refused as exc:
                form.add_service_error(exc)
            else:
                created = issued.credential
                if issued.secret is None:  # nothing to show once (a public OAuth client)
                    messages.success(request, self.created_without_secret_message(created))
                    return submission.done(self.url(request, "detail", created))
                handoff.hold(request, issued, slot=self.slot(created), how="created")
                return submission.done(self.url(request, "secret", created))
        submission.release()
        return self.render_create(request, form, status=400)

    def created_without_secret_message(self, obj):
        raise NotImplementedError

    def secret_view(self, request, object_id):
        """The result page of a creation or rotation: the new secret once, then "already shown"."""
        obj = self.get(request, object_id)
        secret, note = sealed_secret(request, obj, self.slot(obj))
        extra = {"secret": secret, "already_shown": not secret}
        extra.update(self.secret_context(request, obj, secret, note))
        if wants_fragment(request) and note.get("how") == "created":
            response = self.created_fragment(request, obj, extra)
        else:
            response = self.render(request, "detail", self.detail_context(request, obj, **extra))
            if wants_fragment(request):
                response["HX-Replace-Url"] = self.url(request, "detail", obj)
        if secret and wants_fragment(request):
            response["HX-Trigger"] = self.changed_event
        return no_store(response)

    def created_fragment(self, request, obj, extra):
        """The create form asked: answer its fragment, the new credential (and secret) on top."""
        context = {**extra, self.create_form_name: self.create_form(request), "kind": self}
        return render(request, self.template("create"), context)

    def detail_view(self, request, object_id):
        obj = self.get(request, object_id)
        context = self.detail_context(request, obj, **self.usage(request, obj))
        return self.render(request, "detail", context)

    def rename_view(self, request, object_id):
        obj = self.get(request, object_id)
        form = self.rename_form(request, obj, request.POST)
        if form.is_valid():
            try:
                self.rename(request, obj, form)
            except Refused as exc:
                form.add_service_error(exc)
            else:
                extra = self.renamed(request, obj)
                if not wants_fragment(request):
                    return redirect(self.url(request, "detail", obj))
                context = self.detail_context(request, obj, **extra)
                response = render(request, self.template("detail"), context)
                response["HX-Trigger"] = self.changed_event
                return response
        obj.refresh_from_db()  # the name on the page is the one kept, not the one refused
        context = self.detail_context(request, obj, **{self.rename_form_name: form})
        return self.render(request, "detail", context, status=400)

    def rotate_confirm_view(self, request, object_id):
        """Rotate, step 1: say what rotating means (and the grace period picked) before anything changes."""
        obj = self.get(request, object_id)
        if self.rotate_form_class is None:
            return self.render(request, "rotate_confirm", self.detail_context(request, obj))
        form = self.rotate_form_class(request.GET)
        if not form.is_valid():
            context = self.detail_context(request, obj, rotate_form=form)
            return self.render(request, "detail", context, status=400)
        grace = form.cleaned_data[self.grace_field]
        context = {
            self.object_name: obj,
            self.grace_field: grace,
            "consequence": grace_consequence(grace),
        }
        return self.render(request, "rotate_confirm", context)

    def rotate_view(self, request, object_id):
        """Rotate, step 2: a new secret, shown once on its result page."""
        # A rotation that replaces the object asks before the lookup: once rotated, the old one
        # is its successor's previous secret and no longer a page of its own.
        obj = self.get(request, object_id) if self.rotation_keeps_id else None
        submission = handoff.Submission(request)
        if submission.repeated:
            fallback = self.url(request, "detail", obj) if obj else self.list_url(request)
            return submission.redirect_to_first(fallback)
        obj = obj or self.get(request, object_id)
        form = self.rotate_form_class(request.POST) if self.rotate_form_class else None
        if form is None or form.is_valid():
            try:
                issued = self.rotate(request, obj, form)
            except Refused as exc:
                extra = self.rotate_refused(form, exc)
            else:
                note = self.rotated_note(obj, issued)
                handoff.hold(request, issued, slot=self.slot(issued.credential), **note)
                return submission.done(self.url(request, "secret", issued.credential))
        else:
            extra = {"rotate_form": form}
        submission.release()
        context = self.detail_context(request, obj, **extra)
        return self.render(request, "detail", context, status=400)

    def delete_view(self, request, object_id):
        """GET asks "This cannot be undone"; only the POST from that confirmation deletes."""
        obj = self.get(request, object_id)
        if request.method == "GET":
            context = {**self.delete_context(request, obj), "return_to": return_url(request)}
            return self.render(request, "delete_confirm", context)
        message, deleted = self.deleted_message(obj), self.deleted_context(obj)
        self.revoke(request, obj)
        # In place, the "deleted" fragment is the status message itself.
        if not wants_fragment(request) or return_url(request):
            messages.success(request, message)
            propagation.confirm(request, "Revoked")
            return redirect(return_url(request) or self.list_url(request))
        response = render(request, self.template("deleted"), deleted)
        response["HX-Trigger"] = self.changed_event
        response["HX-Replace-Url"] = self.list_url(request)
        return response

    def end_overlap_view(self, request, object_id):
        """GET asks to confirm; the POST from that confirmation stops the previous secret now."""
        obj = self.get(request, object_id)
        detail_url = self.url(request, "detail", obj)
        if request.method == "GET":
            context = {
                "credential": obj,
                "noun": self.noun,
                "until": self.overlap_until(obj),
                "back_url": detail_url,
                "action_url": request.path,
            }
            return render(request, "tokens/end_overlap.html", context)
        try:
            self.end_overlap(request, obj)
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The previous secret no longer works.")
        return redirect(detail_url)
