"""The cache itself: an LRU with a hard TTL, tag invalidation, a sequence guard, and no
answers at all while its process is not following the invalidation log, or has not read it
lately."""

from unittest import mock

import pytest

from tokens.cache.store import CredentialCache, bearer_tags


@pytest.fixture
def cache(settings):
    settings.CREDENTIAL_CACHE_TTL_SECONDS = 30
    settings.CREDENTIAL_CACHE_SIZE = 3
    cache = CredentialCache()
    cache.set_listening(True)
    cache.trust_until(float("inf"))
    return cache


def _put(cache, key, *tags):
    return cache.put(key, f"row {key}", tags or [f"token:{key}"], cache.generation)


def test_a_stored_row_is_answered_from_memory(cache):
    assert _put(cache, "a")
    assert cache.get("a") == "row a"


def test_an_unknown_key_answers_nothing(cache):
    assert cache.get("never stored") is None


def test_the_least_recently_used_entry_goes_beyond_the_size_bound(cache):
    for key in "abc":
        _put(cache, key)
    cache.get("a")  # a is now the most recently used
    _put(cache, "d")
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(key) for key in "acd"] == ["row a", "row c", "row d"]


def test_an_entry_dies_after_the_ttl_whatever_happens(cache):
    with mock.patch("tokens.cache.store.time.monotonic", return_value=1000.0):
        _put(cache, "a")
    with mock.patch("tokens.cache.store.time.monotonic", return_value=1029.9):
        assert cache.get("a") == "row a"
    with mock.patch("tokens.cache.store.time.monotonic", return_value=1030.0):
        assert cache.get("a") is None
    assert len(cache) == 0


def test_invalidating_a_tag_drops_every_entry_carrying_it(cache):
    _put(cache, "a", "token:1", "org:7")
    _put(cache, "b", "token:2", "org:7")
    _put(cache, "c", "token:3", "org:8")
    cache.invalidate(["org:7"])
    assert cache.get("a") is None
    assert cache.get("b") is None
    assert cache.get("c") == "row c"


def test_all_drops_everything(cache):
    _put(cache, "a")
    _put(cache, "b")
    cache.invalidate(["all"])
    assert len(cache) == 0


def test_a_row_read_before_an_invalidation_is_not_stored(cache):
    sequence = cache.generation  # the lookup starts …
    cache.invalidate(["token:1"])  # … a revocation lands while it asks the database …
    assert not cache.put("a", "stale row", ["token:1"], sequence)  # … so its answer is not kept
    assert cache.get("a") is None


def test_nothing_is_answered_or_stored_while_not_listening(cache):
    _put(cache, "a")
    cache.set_listening(False)
    assert cache.get("a") is None
    assert not _put(cache, "b")
    assert len(cache) == 0


def test_listening_again_starts_from_an_empty_cache(cache):
    _put(cache, "a")
    cache.set_listening(False)
    cache.set_listening(True)
    cache.trust_until(float("inf"))
    assert cache.get("a") is None


def test_nothing_is_answered_or_stored_once_the_last_read_of_the_log_is_stale(cache):
    _put(cache, "a")
    with mock.patch("tokens.cache.store.time.monotonic", return_value=10.0):
        cache.trust_until(9.0)
        assert cache.get("a") is None
        assert not cache.holds("a")
        assert not _put(cache, "b")
        cache.trust_until(11.0)  # read again: the entries it kept are good again
        assert cache.get("a") == "row a"


def test_a_replaced_entry_loses_its_old_tags(cache):
    _put(cache, "a", "org:1")
    _put(cache, "a", "org:2")
    cache.invalidate(["org:1"])
    assert cache.get("a") == "row a"


def test_bearer_tags_name_everything_that_can_change_the_answer():
    assert bearer_tags(5, 6, 7, 8, 9, 10) == [
        "token:5",
        "org:8",
        "member:6",
        "user:7",
        "group:9",
        "app:10",
    ]
    assert bearer_tags(5, None, None, 8, None, None) == ["token:5", "org:8"]


def test_entries_answered_since_eviction_last_passed_them_are_kept_over_one_that_was_not(cache):
    for key in "abc":
        _put(cache, key)
    for key in "ab":  # held on arrival, as the bearer path asks
        assert cache.held(key)[0] == f"row {key}"
    _put(cache, "d")  # a and b get their second chance; c, never answered, goes
    assert [cache.holds(key) for key in "abcd"] == [True, True, False, True]
    _put(cache, "e")  # a and b were moved behind d, which nobody answered: d goes
    assert [cache.holds(key) for key in "abde"] == [True, True, False, True]
    _put(cache, "f")  # nobody answered since: the oldest in the order goes, a
    assert [cache.holds(key) for key in "abef"] == [False, True, True, True]
