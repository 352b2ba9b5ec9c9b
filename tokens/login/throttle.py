"""Failed logins, counted per account and per client address in the shared cache.

LOGIN_FAILURES_PER_ACCOUNT and LOGIN_FAILURES_PER_IP failures within
LOGIN_FAILURE_WINDOW_SECONDS lock the account (or the address) out until the window
ends; NIST SP 800-63B allows at most 100 consecutive failures. The cache outlives
the process, so a restart forgets nothing.
"""

import hashlib
import math

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


class LoginThrottled(Exception):
    """Too many failed logins for this account or from this address.

    Not a `Refused`: the API answers it as DRF's `Throttled`, which carries `Retry-After`.
    """

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class LoginAttempt:
    """One login attempt's counters: `check()` first, then `failed()` or `succeeded()`."""

    def __init__(self, email, ip):
        self.now = timezone.now().timestamp()
        # The email is hashed so the cache never holds who tried to log in.
        account = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:40]
        self.account_key = f"login-failures:account:{account}"
        self.limits = {self.account_key: settings.LOGIN_FAILURES_PER_ACCOUNT}
        if ip:
            self.limits[f"login-failures:ip:{ip}"] = settings.LOGIN_FAILURES_PER_IP

    def check(self):
        """Raise LoginThrottled while the account or the address is locked out."""
        counters = cache.get_many(list(self.limits))
        waits = [
            until - self.now
            for key, (count, until) in counters.items()
            if count >= self.limits[key] and until > self.now
        ]
        if waits:
            raise LoginThrottled(math.ceil(max(waits)))

    def failed(self):
        # get-then-set is not atomic on the database cache; parallel failures may count a
        # few short, which the limits (10 and 50, against NIST's 100) absorb.
        window = settings.LOGIN_FAILURE_WINDOW_SECONDS
        for key, (count, until) in {key: cache.get(key) or (0, 0) for key in self.limits}.items():
            if until <= self.now:
                count, until = 0, self.now + window
            cache.set(key, (count + 1, until), timeout=math.ceil(until - self.now))

    def succeeded(self):
        # NIST counts consecutive failures: a success clears the account's count (not the address's).
        cache.delete(self.account_key)
