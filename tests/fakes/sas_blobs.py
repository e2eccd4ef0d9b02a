"""A LocalBlobStore that also signs URLs, as AzureBlobStore does: enough for an adapter
that hands URLs to another service (Batch), whose fake reads the store behind them."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from shared.adapters.local_blob import LocalBlobStore

ACCOUNT = "https://fakestore.blob.core.windows.net"


class SasBlobStore(LocalBlobStore):
    def __init__(self, root) -> None:
        super().__init__(root)
        self.signed: list[tuple[str, bool, float]] = []

    def sas_url(self, path: str, *, write: bool, ttl_s: float) -> str:
        """Like AzureBlobStore.sas_url: read (r, r+l for a container) or create+write."""
        self.signed.append((path, write, ttl_s))
        permission = "cw" if write else ("r" if "/" in path.strip("/") else "rl")
        return f"{ACCOUNT}/{path.strip('/')}?sv=2024-08-04&sp={permission}&sig=fake"


def blob_path(url: str) -> str:
    """The store's path of a signed URL."""
    return urlsplit(url).path.strip("/")


def permission(url: str) -> str:
    return parse_qs(urlsplit(url).query)["sp"][0]
