"""A small form fuzzer for the admin and page tests: read every POST form a page
renders, then post it again with one field at a time replaced by a hostile value
(empty, huge, negative, non-numeric, overlong, a NUL byte, an unknown choice).
No answer may be a 500: a user's mistake is a form error or a message."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.db import transaction

FUZZ_VALUES = {
    "empty": "",
    "huge": "100000000000000000000",
    "negative": "-1",
    "zero": "0",
    "five-digit": "10000",
    "non-numeric": "abc",
    "overlong": "x" * 10_000,
    "nul": "a\x00b",
    "unknown-choice": "no-such-choice",
}
# The sweep over every admin page: "abc" already is an unknown choice and a
# negative number fails like a huge one; fewer posts keep the suite fast.
SWEEP_VALUES = {
    k: v for k, v in FUZZ_VALUES.items() if k not in ("negative", "unknown-choice")
}

# A non-numeric id in an autocomplete field is fixed in grids.admin_mixins by
# another branch of issue 9; until both are merged its fields are left out here.
# The lead sets this to True at merge time.
FUZZ_AUTOCOMPLETE_FIELDS = True

# Forms that are not the page's own (language switch, logout).
SKIPPED_ACTIONS = ("/i18n/", "/logout/")
SKIPPED_FIELDS = {"csrfmiddlewaretoken"}


@dataclass
class Form:
    action: str
    fields: dict = field(default_factory=dict)  # name -> list of values
    files: set = field(default_factory=set)
    autocomplete: set = field(default_factory=set)
    pressed: bool = False


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._form = None
        self._select = None
        self._select_first = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._form = Form(action=attrs.get("action") or "")
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "image"):
                self._submit(name, attrs.get("value") or "")
                return
            if kind in ("button", "reset"):
                return
            if kind == "file":
                self._form.files.add(name)
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                self._form.fields.setdefault(name, [])
                return
            self._form.fields.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "button" and name:
            if (attrs.get("type") or "submit").lower() == "submit":
                self._submit(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self._select_first = None
            if "admin-autocomplete" in (attrs.get("class") or ""):
                self._form.autocomplete.add(name)
            self._form.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if "selected" in attrs:
                self._form.fields[self._select] = [value]
            elif self._select_first is None and value:
                self._select_first = value
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.fields.setdefault(name, [""])

    def _submit(self, name, value):
        # The first named submit button is pressed (``_save``, ``index``, ``apply``).
        if not self._form.pressed:
            self._form.pressed = True
            self._form.fields.setdefault(name, []).append(value)

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.fields[self._textarea] = [data.strip()]

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select" and self._select:
            # A real choice as the baseline, not the blank "---------".
            values = self._form.fields[self._select]
            if not any(values) and self._select_first:
                values[:] = [self._select_first]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str, page_url: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    forms = []
    for form in parser.forms:
        form.action = form.action or page_url
        if form.action.startswith(SKIPPED_ACTIONS) or any(
            s in form.action for s in SKIPPED_ACTIONS
        ):
            continue
        forms.append(form)
    return forms


class _Undo(Exception):
    pass


def _post(client, url, data):
    """Post inside a savepoint that is always rolled back, so every post starts
    from the same rows; returns the status, or the exception a 500 would be."""
    outcome = None
    try:
        with transaction.atomic():
            response = client.post(url, data)
            outcome = response.status_code
            raise _Undo
    except _Undo:
        pass
    except Exception as exc:  # the test client re-raises what would be a 500
        outcome = f"{type(exc).__name__}: {str(exc)[:200]}"
    return outcome


def fuzz_page(client, url: str, *, values=FUZZ_VALUES, fields=None) -> list[str]:
    """Fuzz every POST form on ``url``; returns a line per 500 found."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return fuzz_html(
        client, response.content.decode(), url, values=values, fields=fields
    )


def fuzz_html(client, html, url, *, values=FUZZ_VALUES, fields=None) -> list[str]:
    """Fuzz every POST form in ``html`` (a page at ``url``)."""
    failures = []
    forms = post_forms(html, url)
    for form in forms:
        baseline = {k: v for k, v in form.fields.items() if k not in SKIPPED_FIELDS}
        names = [
            n
            for n in baseline
            if (fields is None or n in fields)
            and (FUZZ_AUTOCOMPLETE_FIELDS or n not in form.autocomplete)
        ]
        for name in names:
            for label, value in values.items():
                data = {**baseline, name: [value]}
                outcome = _post(client, form.action, data)
                if not isinstance(outcome, int) or outcome >= 500:
                    failures.append(f"{form.action} {name}={label}: {outcome}"[:300])
    return failures
