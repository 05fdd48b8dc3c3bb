"""Every app's zh-hans catalogue is complete and compiled from its current .po."""

import gettext
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_there_are_catalogues():
    assert {p.parts[-5] for p in CATALOGUES} >= {"governance", "grids"}


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [], f"untranslated in {po_path}"
    assert fuzzy == [], f"fuzzy in {po_path}"
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"run `make messages`: {mo_path} missing"
    with mo_path.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for entry in po.translated_entries():
        if entry.msgid_plural:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        assert compiled._catalog.get(key) == entry.msgstr, (
            f"{po_path}: .mo is stale, run `make messages`"
        )


def test_default_language_is_chinese_and_english_on_request(client, db):
    response = client.get("/admin/login/")
    assert "登录" in response.content.decode()
    response = client.get("/admin/login/", headers={"accept-language": "en"})
    assert "Log in" in response.content.decode()


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_our_wording_is_what_users_see(po_path):
    """Catalogues merge: for a msgid that Django or another app also translates,
    the earlier app wins. A msgid whose meaning here differs needs a context."""
    from django.utils import translation

    po = polib.pofile(str(po_path))
    shadowed = []
    with translation.override("zh-hans"):
        for entry in po.translated_entries():
            if entry.msgid_plural:
                continue
            shown = (
                translation.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt
                else translation.gettext(entry.msgid)
            )
            if shown != entry.msgstr:
                shadowed.append((entry.msgid, entry.msgstr, shown))
    assert shadowed == []
