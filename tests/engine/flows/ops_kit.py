"""The ops lane's fixtures: the flowtest pack (runtime_kit) served through the real API."""

from __future__ import annotations

from typing import Any

import pytest

from apps import create_app

from .runtime_kit import Flows


class Api:
    """The Flask test client on a Flows platform, with bearer tokens per user."""

    def __init__(self, flows: Flows) -> None:
        self.flows = flows
        self.client = create_app({"TESTING": True, "PLATFORM": flows.platform}).test_client()
        self.tokens: dict[str, str] = {}

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            resp = self.client.post("/api/v1/auth/login", json={"username": username, "password": username + "-pw"})
            assert resp.status_code == 200, resp.get_json()
            self.tokens[username] = resp.get_json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def post(self, username: str, url: str, body: Any, lang: str = "en") -> Any:
        return self.client.post(url, json=body, headers={**self.headers(username), "Accept-Language": lang})

    def get(self, username: str, url: str) -> Any:
        return self.client.get(url, headers=self.headers(username))


@pytest.fixture(name="api")
def api_fixture(flows: Flows) -> Api:
    return Api(flows)


def user_id(flows: Flows, name: str) -> int:
    uid = flows.ctx(name).user_id
    assert uid is not None
    return uid
