"""The OAuth client form: it parses what a person typed; tokens.oauth.services decides what is allowed."""

from django import forms

from ..forms import ServiceErrorsMixin
from ..models import Application
from ..rules import NAME_MAX_LENGTH


class OAuthClientForm(ServiceErrorsMixin, forms.Form):
    """Register a client, or (`editing`) change one: the type is fixed once registered, and
    only admins see the introspection switch."""

    name = forms.CharField(max_length=NAME_MAX_LENGTH)
    redirect_uris = forms.CharField(
        label="Redirect URIs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. https:// only; http:// is allowed for localhost.",
    )
    allowed_origins = forms.CharField(
        label="Allowed origins (CORS)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For a browser app that calls /o/token/ itself: one origin per line, like https://app.example.com.",
    )
    client_type = forms.ChoiceField(
        label="Client type",
        initial=Application.CLIENT_CONFIDENTIAL,
        widget=forms.RadioSelect,
        choices=[
            (Application.CLIENT_CONFIDENTIAL, "Confidential: a server that can keep a secret"),
            (Application.CLIENT_PUBLIC, "Public: a browser or mobile app (PKCE only, no secret)"),
        ],
    )
    allow_introspection = forms.BooleanField(
        label="May introspect its tokens (/o/introspect/)", required=False
    )

    def __init__(self, data=None, *, membership, application=None):
        initial = None
        if application is not None:
            initial = {
                "name": application.name,
                "redirect_uris": "\n".join(application.redirect_uris.split()),
                "allowed_origins": "\n".join(application.allowed_origins.split()),
                "allow_introspection": application.allow_introspection,
            }
        super().__init__(data, initial=initial)
        if application is not None:
            del self.fields["client_type"]
        if not membership.is_admin:
            del self.fields["allow_introspection"]
