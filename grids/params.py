"""Reading numbers from query strings and URLs, for every app's pages."""


def parse_id(raw) -> int | None:
    """A whole number written in plain ASCII digits (an id, a year), or None.

    ``str.isdigit`` alone is not enough: "²" and "٣" are digits to Python, and
    ``int()`` refuses the first; absurdly long numbers are refused too.
    """
    raw = "" if raw is None else str(raw)
    if not raw or len(raw) > 18 or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)
