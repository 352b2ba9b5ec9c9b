from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import scopes as catalog
from .schema import operations_by_scope


@require_GET
def scopes_page(request):
    """The scopes page of the API docs: scope → description → operations, from the catalog."""
    operations = operations_by_scope()
    domains = [
        {
            "name": domain.name,
            "scopes": [
                {
                    "name": s.name,
                    "description": s.description,
                    "operations": operations.get(s.name, []),
                }
                for s in domain.scopes
            ],
        }
        for domain in catalog.DOMAINS
    ]
    bundles = [
        {
            "name": name,
            "description": catalog.ROLE_DESCRIPTIONS[name],
            "scopes": catalog.ordered(catalog.ROLE_BUNDLES[name]),
        }
        for name in catalog.ROLE_BUNDLES
    ]
    return render(request, "docs/scopes.html", {"domains": domains, "bundles": bundles})
