"""Sizes as people read them, for messages that name a limit."""


def human_size(n: float) -> str:
    """1536 -> "1.5 KiB"; under a KiB, the bytes themselves."""
    if n < 1024:
        return f"{n:,} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            break
    return f"{n:.1f}".removesuffix(".0") + f" {unit}"
