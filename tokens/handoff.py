"""Post/Redirect/Get for new secrets: the POST that creates or rotates a credential hands its
secret over to the one GET that shows it, and a form submitted twice acts once.

- `hold` seals the secret (tokens.sealing) into the cache under a random handle that only
  this session knows (never a URL, never `messages`); `take` is the result page's single
  read: it deletes the sealed copy, records *secret shown* and returns the plaintext once.
  Whatever is not taken is gone after `HELD_FOR` seconds.
- `Submission` guards a form against a double click, a reload of its POST and back plus
  resubmit: each rendering of the form carries a fresh id ({% submission_field %}); the
  first POST with it claims it, a repeat is sent to the first one's result page (which
  says "already shown") instead of creating or rotating again. Pages holding such a form are
  therefore not `no-store` (only result pages are): going back must bring the form back as it
  was sent, id included, not a fresh one that would act a second time.
"""

import hashlib
import secrets

from django.core.cache import cache
from django.shortcuts import redirect

from . import audit, sealing
from .one_time import Issued, OneTimeSecret

HELD_FOR = 300
SUBMISSION_FIELD = "submission"
# Long enough to cover a back button pressed after lunch; a submission id is never reused.
SUBMISSIONS_REMEMBERED_FOR = 6 * 3600


def _session_key(slot):
    return f"held-secret:{slot}"


def _cache_key(handle):
    return f"held-secret:{handle}"


def hold(request, issued, *, slot, **note):
    """Keep `issued`'s secret sealed for the one GET of its result page; `note` (small,
    JSON-able) comes back with it, e.g. which token a rotation replaced."""
    handle = secrets.token_urlsafe(32)
    cache.set(_cache_key(handle), sealing.seal(issued.secret.reveal()), HELD_FOR)
    request.session[_session_key(slot)] = {"handle": handle, **note}


def take(request, credential, *, slot, ip=None):
    """(secret, note) the first time, recorded as shown; None once shown, expired or never held."""
    held = request.session.pop(_session_key(slot), None)
    if not isinstance(held, dict) or "handle" not in held:
        return None
    key = _cache_key(held.pop("handle"))
    sealed = cache.get(key)
    # Two reloads racing: only the one whose delete removed the entry shows it.
    if sealed is None or not cache.delete(key):
        return None
    issued = Issued(credential, OneTimeSecret(sealing.unseal(sealed)))
    return audit.reveal(issued, by=request.user, ip=ip), held


def new_submission_id():
    return secrets.token_urlsafe(18)


class Submission:
    """One POST of a form that creates or changes a secret (see the module docstring)."""

    def __init__(self, request):
        self.request = request
        submitted = request.POST.get(SUBMISSION_FIELD, "")
        # A POST without an id (a script, a test) is not guarded: it never came from our form twice.
        # Hashed: whatever a client sends becomes a short key any cache backend accepts.
        digest = hashlib.sha256(submitted.encode(errors="replace")).hexdigest()
        self.key = f"submission:{request.user.pk}:{digest}" if submitted else None
        self.repeated = bool(self.key) and not cache.add(self.key, "", SUBMISSIONS_REMEMBERED_FOR)

    def redirect_to_first(self, fallback):
        """Where the first POST with this id went (its result page), or `fallback` while it is still running."""
        return see_other(cache.get(self.key) or fallback)

    def release(self):
        """The form came back with errors: the same id may be submitted again."""
        if self.key:
            cache.delete(self.key)

    def done(self, url):
        """Answer the POST with a 303 to its result page, remembered for a repeat of this submission."""
        if self.key:
            cache.set(self.key, url, SUBMISSIONS_REMEMBERED_FOR)
        return see_other(url)


def see_other(url):
    response = redirect(url)
    response.status_code = 303
    return response
