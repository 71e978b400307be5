"""studyapp:// links: how lesson text (and the claims view) opens a tab in a given state.

    studyapp://compare?prompt=france&mode=chat
    studyapp://lessons?lesson=base-models#why-it-continues

The parsing is plain Python so that it is tested without a window; the main window routes a
parsed link to the tab registered under that name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

SCHEME = "studyapp"


@dataclass(frozen=True)
class Link:
    tab: str
    params: dict[str, str] = field(default_factory=dict)
    fragment: str = ""


def parse_link(url: str) -> Link | None:
    """A Link for studyapp://TAB?params#fragment; None for any other URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != SCHEME:
        return None
    tab = (parts.netloc or parts.path.strip("/")).lower()
    if not tab:
        return None
    return Link(tab, dict(parse_qsl(parts.query)), parts.fragment)


def make_link(tab: str, fragment: str = "", **params: str) -> str:
    from urllib.parse import urlencode
    query = f"?{urlencode(params)}" if params else ""
    return f"{SCHEME}://{tab}{query}" + (f"#{fragment}" if fragment else "")
