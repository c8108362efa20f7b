"""Server-side sessions: a copied session cookie stops working once the session is ended."""

from __future__ import annotations

import pytest

from controller.models import User


def _replay(app, cookie: str):
    """A fresh client presenting only the copied cookie, as an attacker would."""
    c = app.test_client()
    c.set_cookie("session", cookie)
    return c.get("/")


def _refused(r) -> bool:
    return r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_copied_cookie_stops_working_after_logout(app, login):
    victim = login("editor")
    cookie = victim.get_cookie("session").value
    assert _replay(app, cookie).status_code == 200  # the copy works while the session lives
    app.config.update(WTF_CSRF_ENABLED=False)
    assert _refused(victim.post("/logout"))
    assert _refused(_replay(app, cookie))


@pytest.mark.parametrize("form", [{"password": "mat-khau-moi-99"},
                                  {"role": "viewer", "active": "1"},
                                  {"role": "editor"}],  # unticked "active": disabled
                         ids=["password", "role", "disable"])
def test_an_admin_change_ends_the_users_sessions(app, controller, login, form):
    victim = login("editor")
    cookie = victim.get_cookie("session").value
    admin = login("admin")
    with controller.db.session() as s:
        uid = s.query(User).filter_by(username="editor").one().id
    app.config.update(WTF_CSRF_ENABLED=False)
    assert admin.post(f"/users/{uid}", data=form).status_code == 302
    assert _refused(_replay(app, cookie))
    assert _refused(victim.get("/"))
    assert admin.get("/").status_code == 200  # the admin's own session is untouched
