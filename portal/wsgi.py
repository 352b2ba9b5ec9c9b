import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.handlers import WSGIHandler

# Fail at start, not on the first request that needs a key.
if getattr(settings, "SERVING_PROBLEMS", None):
    raise ImproperlyConfigured(" ".join(settings.SERVING_PROBLEMS))
# What django.core.wsgi.get_wsgi_application() does, with Keyward's handler (portal.handlers).
django.setup(set_prefix=False)
application = WSGIHandler()
