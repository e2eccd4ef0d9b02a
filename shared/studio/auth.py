"""The studio's login: the API key, given once on a form and kept in a cookie that
scripts cannot read (HttpOnly) and other sites cannot send (SameSite=Strict), so the key
never appears in a URL and a page's own POSTs (cancel, try-it) need no token of their own."""
from __future__ import annotations

import hmac
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

COOKIE = "mlcycle_studio"
MAX_FORM = 64 * 1024


def signed_in(headers: dict, key: str) -> bool:
    """The cookie, or the API's own key header (a script reading a feed) names the key."""
    given = [cookie_value(headers), _header(headers, "x-functions-key")]
    return bool(key) and any(g and hmac.compare_digest(g.encode(), key.encode())
                             for g in given)


def cookie_value(headers: dict) -> str:
    raw = _header(headers, "cookie")
    if not raw:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else ""


def login_cookie(key: str, *, secure: bool) -> str:
    # The key is URL-safe (secrets.token_urlsafe), so it needs no quoting in a cookie.
    return (f"{COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict"
            + ("; Secure" if secure else ""))


def logout_cookie() -> str:
    return f"{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"


def form_key(body: bytes) -> str:
    """The key typed on the login form (an x-www-form-urlencoded body)."""
    if len(body) > MAX_FORM:
        return ""
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return (fields.get("key") or [""])[0].strip()


def _header(headers: dict, name: str) -> str:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return ""
