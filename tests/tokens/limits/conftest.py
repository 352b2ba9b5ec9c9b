import pytest

from tokens.limits import check, credits, sync


@pytest.fixture(autouse=True)
def limits_forgotten():
    """Each test starts with no window counted, no credits leased, nothing waiting to sync."""

    def forget():
        check._windows.clear()
        check._credits.clear()
        credits._known.clear()
        sync._pending_reports.clear()
        sync._pending_notices.clear()

    forget()
    yield
    forget()


def limits_url(kind, pk):
    return f"/api/v1/{kind}/{pk}/limits"
