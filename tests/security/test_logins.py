"""Login rate limiting: per account and per address, with a clear lock message; all audited."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
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


PARALLEL = 30


def _in_parallel(fn) -> list:
    """fn(i) for i in 0..PARALLEL-1, all released at the same moment from their own threads."""
    barrier = threading.Barrier(PARALLEL)

    def run(i):
        barrier.wait(timeout=60)
        return fn(i)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(run, range(PARALLEL)))


def test_parallel_wrong_passwords_lock_the_account_after_the_limit(app, controller, monkeypatch):
    app.config.update(WTF_CSRF_ENABLED=False)
    with controller.db.session() as s:
        real_hash = users.add_user(s, "thu-ky", "editor", "mat-khau-dung-8")[0].password_hash
    checked = []  # the account's own hash; the equal-cost dummy checks are not counted
    verify = users.verify_password
    monkeypatch.setattr(users, "verify_password", lambda user, password: (
        checked.append(password) if user.password_hash == real_hash else None,
        verify(user, password))[1])
    codes = _in_parallel(lambda i: app.test_client().post(
        "/login", data={"username": "thu-ky", "password": f"sai-{i}"},
        environ_base={"REMOTE_ADDR": f"10.0.{i}.1"}).status_code)  # many addresses
    assert codes == [401] * PARALLEL
    assert len(checked) <= logins.MAX_ACCOUNT_FAILURES, f"{len(checked)} password checks"
    with controller.db.session() as s:
        user, err = logins.authenticate(s, "thu-ky", "mat-khau-dung-8", "10.9.9.9")
        assert user is None and err == "locked"
        assert "account_locked" in _actions(s)
    assert "mat-khau-dung-8" not in checked  # a locked account's password is not tried


def test_parallel_guesses_from_one_address_stop_at_the_address_limit(controller):
    limit = 5  # the default 20 works the same; fewer argon2 checks keep the test short

    def guess(i):
        with controller.db.session() as s:
            return logins.authenticate(s, f"ten-doan-{i}", "x", "203.0.113.7",
                                       ip_max_failures=limit)[1]

    answers = _in_parallel(guess)
    assert answers.count("bad_credentials") <= limit
    assert answers.count("locked") >= PARALLEL - limit
    with controller.db.session() as s:
        assert _actions(s).count("login_failed") <= limit


def _login_through_waitress(tmp_path, trusted_proxies: int, forwarded_for: str) -> str:
    """POST a wrong password to a real waitress server; the address the audit log recorded."""
    import http.client

    from controller.app import create_app
    from controller.config import load
    from controller.runtime import Controller
    from controller.server import WebServer
    from tests.support.controller import fresh_db_url
    from tests.support.processes import free_port

    ctl = Controller(load(tmp_path / "d", database_url=fresh_db_url(tmp_path),
                          trusted_proxies=trusted_proxies))
    app = create_app(controller=ctl)
    app.config.update(WTF_CSRF_ENABLED=False)
    port = free_port()
    web = WebServer(app, "127.0.0.1", port)
    web.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/login", body="username=ai-do&password=x", headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": forwarded_for})
        assert conn.getresponse().status == 401
        conn.close()
        with ctl.db.session() as s:
            return s.scalar(sa.select(AuditEvent.ip).where(AuditEvent.action == "login_failed"))
    finally:
        web.stop()
        ctl.stop()


def test_x_forwarded_for_is_ignored_without_trusted_proxies(tmp_path):
    assert _login_through_waitress(tmp_path, 0, "203.0.113.9") == "127.0.0.1"


def test_x_forwarded_for_names_the_client_behind_the_configured_proxies(tmp_path):
    # The proxy appends the address it saw; what the client wrote before it is not believed.
    assert _login_through_waitress(tmp_path, 1, "6.6.6.6, 203.0.113.9") == "203.0.113.9"
