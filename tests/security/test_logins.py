"""Login rate limiting: per account and per address, with a clear lock message; all audited."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from controller.models import AuditEvent, User, utcnow
from controller.services import logins, users


def _actions(s) -> list[str]:
    return list(s.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_good_password_logs_in_and_is_audited(controller):
    with controller.db.session() as s:
        users.add_user(s, "thu-ky", "editor", "mat-khau-dung-8")
    with controller.db.session() as s:
        user, err = logins.authenticate(s, "thu-ky", "mat-khau-dung-8", "10.0.0.5")
        assert err is None and user.username == "thu-ky"
        assert _actions(s)[-1] == "login"


def test_account_locks_after_n_failures_even_for_the_right_password(controller):
    with controller.db.session() as s:
        users.add_user(s, "thu-ky", "editor", "mat-khau-dung-8")
    for i in range(logins.MAX_ACCOUNT_FAILURES):
        with controller.db.session() as s:
            user, err = logins.authenticate(s, "thu-ky", f"sai-{i}", f"10.0.0.{i}")
        assert user is None
        assert err == (logins.LOCKED if i == logins.MAX_ACCOUNT_FAILURES - 1 else logins.BAD_CREDENTIALS)
    with controller.db.session() as s:
        user, err = logins.authenticate(s, "thu-ky", "mat-khau-dung-8", "10.0.0.99")
        assert user is None and err == "locked"
        assert 1 <= err.minutes <= logins.LOCK_MINUTES
        assert "account_locked" in _actions(s)
        assert f"{err.minutes} phút" in logins.message_vi(err)
        # Time passes: the lock ends and the right password works again.
        s.scalar(sa.select(User).where(User.username == "thu-ky")).locked_until = utcnow() - timedelta(
            seconds=1)
    with controller.db.session() as s:
        user, err = logins.authenticate(s, "thu-ky", "mat-khau-dung-8", "10.0.0.99")
        assert err is None and user.failed_logins == 0


def test_one_address_guessing_across_accounts_is_locked_out(controller):
    with controller.db.session() as s:
        users.add_user(s, "chu-tich", "admin", "mat-khau-dung-8")
    for i in range(logins.MAX_IP_FAILURES):
        with controller.db.session() as s:
            _, err = logins.authenticate(s, f"ten-doan-{i}", "x", "203.0.113.7")
            assert err == "bad_credentials"
    with controller.db.session() as s:
        user, err = logins.authenticate(s, "chu-tich", "mat-khau-dung-8", "203.0.113.7")
        assert user is None and err == "locked" and err.minutes >= 1
    with controller.db.session() as s:  # another address is not affected
        user, err = logins.authenticate(s, "chu-tich", "mat-khau-dung-8", "203.0.113.8")
        assert err is None


def test_unknown_user_and_wrong_password_get_the_same_answer(controller):
    with controller.db.session() as s:
        users.add_user(s, "chu-tich", "admin", "mat-khau-dung-8")
    with controller.db.session() as s:
        _, unknown = logins.authenticate(s, "khong-co", "x", "10.0.0.1")
        _, wrong = logins.authenticate(s, "chu-tich", "x", "10.0.0.1")
        assert unknown == wrong == "bad_credentials"
        assert logins.message_vi(unknown) == logins.message_vi(wrong)
        assert _actions(s).count("login_failed") == 2


def test_locked_message_on_the_login_page(app, controller):
    app.config.update(WTF_CSRF_ENABLED=False)
    with controller.db.session() as s:
        users.add_user(s, "thu-ky", "editor", "mat-khau-dung-8")
    client = app.test_client()
    for i in range(logins.MAX_ACCOUNT_FAILURES):
        r = client.post("/login", data={"username": "thu-ky", "password": f"sai-{i}"})
        assert r.status_code == 401
    r = client.post("/login", data={"username": "thu-ky", "password": "mat-khau-dung-8"})
    assert r.status_code == 401
    page = r.get_data(as_text=True)
    assert "15" in page  # how long to wait is shown, in the page's language
