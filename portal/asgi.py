import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Fail at start, not on the first request that needs a key.
if getattr(settings, "SERVING_PROBLEMS", None):
    raise ImproperlyConfigured(" ".join(settings.SERVING_PROBLEMS))
application = get_asgi_application()
