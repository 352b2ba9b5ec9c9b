import time, timeit
import bench.auth as B
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from rest_framework.request import Request
B.prepare_database(False)
headers = B.seed(10000)
handler = WSGIHandler()
from bench.urls import ROWS, NO_AUTH, KEYWARD_WARM, Ok
from tokens.authentication import AccessTokenAuthentication, send_lookup_ahead
from tokens.permissions import HasRequiredScopes
from tokens import invalidation, metrics
from tokens.credential_cache import cache
assert invalidation.wait_until_listening(15)
eps = {name: B.Endpoint(name, path, headers[name]) for name, path, *_ in ROWS}
for n in (NO_AUTH, KEYWARD_WARM):
    for _ in range(3000): eps[n].call(handler)
def run(n, k=5000):
    t=time.perf_counter_ns()
    for _ in range(k): eps[n].call(handler)
    return (time.perf_counter_ns()-t)/k/1000
fl=[];wm=[]
for rep in range(7):
    fl.append(run(NO_AUTH)); wm.append(run(KEYWARD_WARM))
import statistics as S
print("floor %.1f warm %.1f diff %.1f us" % (S.median(fl), S.median(wm), S.median(wm)-S.median(fl)))
rf = RequestFactory()
hdr = headers[KEYWARD_WARM]
dj = rf.get("/keyward/", HTTP_AUTHORIZATION=hdr)
auth = AccessTokenAuthentication()
def t(label, fn, k=20000):
    fn()
    s=time.perf_counter_ns()
    for _ in range(k): fn()
    print(f"{label:40s} {(time.perf_counter_ns()-s)/k/1000:7.2f} us")
env = dict(dj.META)
t("send_lookup_ahead", lambda: send_lookup_ahead(None, environ=dict(env)))
req = Request(dj)
t("authenticate (no sent-ahead)", lambda: auth.authenticate(req))
from tokens import secret_format
raw = hdr.split()[1]
t("digest", lambda: secret_format.digest(raw))
t("cache.get", lambda: cache.get(secret_format.digest(raw)))
from django.utils import timezone
t("timezone.now", timezone.now)
t("metrics.outcome", lambda: metrics.outcome("personal","ok"))
view = Ok(); view.request=req; view.format_kwarg=None
perm = HasRequiredScopes()
req2 = Request(dj); req2._authenticator=None
u,p = auth.authenticate(req); req2._user=u; req2._auth=p
t("has_permission", lambda: perm.has_permission(req2, view))
entry = cache.get(secret_format.digest(raw))
t("entry.user()", entry.user)
t("Request(dj)+auth", lambda: Request(dj, authenticators=[AccessTokenAuthentication()]).user)
t("Request(dj) noauth", lambda: Request(dj, authenticators=[]).user)
import cProfile, pstats
d = secret_format.digest(raw)
pr=cProfile.Profile(); pr.enable()
for _ in range(20000): cache.get(d)
pr.disable(); pstats.Stats(pr).sort_stats("tottime").print_stats(8)
t("CACHE_HIT.inc", metrics.CACHE_HIT.inc)
import threading
lk=threading.Lock()
def f():
    with lk: pass
t("lock", f)
