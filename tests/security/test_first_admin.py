"""Attack: be the first to register on a fresh deployment and so become its administrator.

Registration is closed unless CRAWLFLEET_REGISTRATION opens it, and opening it does not make
the first account an admin; the first administrator is made on purpose, with
`crawlfleet user create --role admin`, by someone who can reach the stores. Against the real
controller process of the guarded cluster (which sets no registration setting: the default).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import REPO, Cluster, unique

PASSWORD = "correct horse battery staple"


def register(c: Cluster, username: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    resp = c.http.post("/api/v1/auth/register", json={"username": username, "password": PASSWORD},
                       headers=headers or {})
    return resp.status_code, resp.json()


def user_create(c: Cluster, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawlfleet", "user", "create", *args], env=c.env, cwd=REPO,
                          input=password + "\n", capture_output=True, text=True, timeout=60)


def test_registration_is_closed_by_default(guarded: Cluster) -> None:
    status, body = register(guarded, unique("first"))
    assert status == 403, body
    assert body["code"] == "forbidden" and "closed" in str(body["detail"]), body
    assert "crawlfleet user create" in str(body["detail"]), body


def test_the_first_admin_is_made_with_the_cli_and_can_sign_in(guarded: Cluster) -> None:
    name = unique("root")
    made = user_create(guarded, "--username", name, "--role", "admin")
    assert made.returncode == 0, made.stderr
    assert name in made.stdout and "admin" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr  # the password it was given is never echoed
    login = guarded.http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["role"] == "admin"
    session = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert guarded.http.get("/api/v1/users", headers=session).status_code == 200
    # the admin adds accounts while registration stays closed to everybody else
    status, body = register(guarded, unique("alice"), session)
    assert status == 201 and body["role"] == "user", body
    assert register(guarded, unique("mallory"))[0] == 403


def test_the_cli_can_generate_the_password(guarded: Cluster) -> None:
    name = unique("ops")
    made = user_create(guarded, "--username", name, "--generate-password", password="")
    assert made.returncode == 0, made.stderr
    generated = made.stdout.strip().splitlines()[-1].split()[-1]
    login = guarded.http.post("/api/v1/auth/login", json={"username": name, "password": generated})
    assert login.status_code == 200, (made.stdout, login.text)
    assert login.json()["user"]["role"] == "user"  # the default role


def test_the_cli_refuses_a_taken_username_and_a_bad_password(guarded: Cluster) -> None:
    name = unique("dup")
    assert user_create(guarded, "--username", name).returncode == 0
    again = user_create(guarded, "--username", name)
    assert again.returncode == 1 and "taken" in again.stderr, again.stderr
    short = user_create(guarded, "--username", unique("short"), password="abc")
    assert short.returncode == 1 and "password" in short.stderr, short.stderr


def test_the_old_registration_setting_stops_the_process_instead_of_being_ignored() -> None:
    from crawlbase.config import Config, ConfigError

    with pytest.raises(ConfigError, match=r"CRAWLFLEET_OPEN_REGISTRATION.*CRAWLFLEET_REGISTRATION"):
        Config.from_env({"CRAWLFLEET_OPEN_REGISTRATION": "1"}, require_stores=False)
