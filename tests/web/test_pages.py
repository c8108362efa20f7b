"""Every page renders for the roles allowed, in Vietnamese by default."""

from __future__ import annotations

import pytest

PAGES = ["/", "/approvals", "/calendar", "/fleet", "/log", "/report", "/fleet.json"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_a_viewer(login, path):
    c = login("viewer")
    r = c.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]


@pytest.mark.parametrize("path", ["/compose", "/users", "/audit"])
def test_admin_pages_render(login, path):
    r = login("admin").get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]


def test_default_language_is_vietnamese(login):
    html = login("viewer").get("/log").get_data(as_text=True)
    assert 'lang="vi"' in html
    assert "Nhật ký phát" in html
