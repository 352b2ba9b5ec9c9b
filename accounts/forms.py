"""Portal forms of the ground floor: inviting a member, changing one."""

from django import forms

from .models import Role


def roles_up_to(role):
    """The roles someone of `role` may give: their own and the ones below."""
    return [(value, label) for value, label in Role.choices if Role.rank(value) <= Role.rank(role)]


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=150, required=False, help_text="Used only for a new account.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)
    developer_access = forms.BooleanField(required=False, label="Developer access")

    def __init__(self, *args, by_role, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles_up_to(by_role)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, by_role, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles_up_to(by_role)


class DeveloperAccessForm(forms.Form):
    developer_access = forms.BooleanField(required=False)
