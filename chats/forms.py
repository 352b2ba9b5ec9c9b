"""The portal's webhook form: it parses what an admin typed; chats.services decides what is
allowed (a URL pointing at a private address is refused there, as through the API)."""

from django import forms

from .models import EVENT_CATEGORIES


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Payload URL",
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/keyward-events"}),
    )
    event_categories = forms.MultipleChoiceField(
        label="Events to send",
        choices=list(EVENT_CATEGORIES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one kind of event."},
    )

    def add_service_error(self, refused):
        self.add_error(refused.field if refused.field in self.fields else None, refused.message)
