"""Sphinx configuration for the jwt_blueprint documentation (make docs)."""

from __future__ import annotations

import importlib.metadata

project = "jwt_blueprint"
copyright = "jwt_blueprint developers"
release = importlib.metadata.version("jwt_blueprint")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# GitHub-style anchors on headings, so that [text](page.md#some-heading)
# links work as they did in the README.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
# The API page documents RedisStore and Argon2PasswordHasher without the
# redis and argon2 extras installed.
autodoc_mock_imports = ["redis", "argon2"]

html_theme = "furo"
html_title = f"jwt_blueprint {release}"
