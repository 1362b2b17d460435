"""The seed's curl flow, end to end."""

from __future__ import annotations

from conftest import auth_header
from conftest import login


def test_login_then_protected(client):
    token = login(client)
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 200
    assert response.text == "User(id='1')"
