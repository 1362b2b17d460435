"""The login page and what it fetches.

``GET /`` and ``GET /admin`` are plain pages: all they show comes from the
JSON routes under ``/api``, fetched by ``static/app.js`` with the access
token cookie, which the page's JavaScript cannot read (it is HttpOnly).
Logging in is ``POST /auth``, logging out ``POST /auth/revoke`` with the
CSRF value in ``X-CSRF-Token``: both are jwt_blueprint's own endpoints.
"""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import Response

from jwt_blueprint import current_claims
from jwt_blueprint import current_identity
from jwt_blueprint import jwt_required
from jwt_blueprint import roles_required

bp = Blueprint("pages", __name__)

#: The pages load nothing but this app's own scripts, styles and JSON: an
#: injected inline script does not run, and no other site may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


# On every response of the app, static files and errors included.
@bp.after_app_request
def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.get("/")
def index() -> str:
    """The login form, or the profile once logged in."""
    return render_template("index.html")


@bp.get("/admin")
def admin() -> str:
    """The administrators' page: what ``/api/admin`` answers, 403 included."""
    return render_template("admin.html")


@bp.get("/api/me")
@jwt_required()
def me() -> dict[str, object]:
    """The user and the roles their token carries."""
    return {"user": current_identity.username, "roles": current_claims.get("roles", [])}


@bp.get("/api/admin")
@roles_required("admin")
def admin_api() -> dict[str, object]:
    """Only for a token with the ``admin`` role; any other gets a 403."""
    user = current_identity.username
    return {"user": user, "message": f"Welcome, {user}: you are an administrator."}
