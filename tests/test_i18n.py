"""Issue 10 part 6: English by default, French from Accept-Language or the switcher, and a
French catalogue that is complete, current and compiled.

The catalogue checks parse the .po with the small reader below rather than polib, so the
suite needs no gettext tools and no extra dependency; only the freshness check runs
makemessages, and it skips when xgettext is absent.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import World

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_PATH = LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po"
MO_PATH = LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.mo"
MAKEMESSAGES_IGNORE = [".venv", "tests", "bench", "docs"]


@dataclass
class Entry:
    """One catalogue entry: msgctxt, msgid (and msgid_plural), its msgstr(s) and flags."""

    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


_FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included (msgid ""), obsolete (#~) ones marked."""
    entries: list[Entry] = []
    current: Entry | None = None
    key: tuple[str, int] = ("", 0)
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current = None
            continue
        if current is None:
            current = Entry()
        if line.startswith("#~"):
            current.obsolete = True
            line = line[2:].strip()
        elif line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        elif line.startswith("#"):
            continue
        match = _FIELD.match(line)
        if match:
            name, index, quoted = match.groups()
            key = ("msgstr", int(index or 0)) if name.startswith("msgstr") else (name, 0)
        elif line.startswith('"'):
            quoted = line
        else:
            continue
        value = ast.literal_eval(quoted)
        if key[0] == "msgstr":
            current.msgstr[key[1]] = current.msgstr.get(key[1], "") + value
        else:
            setattr(current, key[0], (getattr(current, key[0]) or "") + value)
    return entries


def messages(path: Path) -> list[Entry]:
    """The translatable entries: no header, no obsolete ones."""
    return [entry for entry in read_po(path) if entry.msgid and not entry.obsolete]


def keys(entries: list[Entry]) -> set[tuple[str | None, str, str | None]]:
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in entries}


# Pages


def test_login_page_follows_accept_language(db: Any) -> None:
    french = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr")
    english = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")

    assert french.status_code == english.status_code == 200
    assert french["Content-Language"] == "fr"
    assert '<html lang="fr">' in french.text
    assert "Se connecter" in french.text
    assert "Sign in" not in french.text
    assert '<html lang="en-gb">' in english.text
    assert "Sign in" in english.text


def test_consortium_list_navigation_and_heading_in_french(world: World, browser_as: Any) -> None:
    french = browser_as(world.member).get(reverse("consortia:list"), HTTP_ACCEPT_LANGUAGE="fr")

    assert french.status_code == 200
    assert "<h1>Consortiums</h1>" in french.text
    for label in ("Accords", "Calcul", "Organisations", "Boîte de réception", "Se déconnecter"):
        assert label in french.text
    assert "Sign out" not in french.text


def test_consortium_list_stays_english_by_default(world: World, browser_as: Any) -> None:
    for header in ({"HTTP_ACCEPT_LANGUAGE": "en"}, {}):
        english = browser_as(world.member).get(reverse("consortia:list"), **header)
        assert "<h1>Consortia</h1>" in english.text
        assert "Agreements" in english.text
        assert "Sign out" in english.text


def test_language_switcher_is_a_labelled_form(world: World, browser_as: Any) -> None:
    page = browser_as(world.member).get(reverse("consortia:list")).text

    assert f'action="{reverse("set_language")}"' in page
    assert '<label for="language-select">Language</label>' in page
    assert '<select id="language-select" name="language">' in page
    assert '<option value="fr" lang="fr">français</option>' in page


def test_choosing_french_sticks_for_later_pages(world: World, browser_as: Any) -> None:
    client = browser_as(world.member)

    response = client.post(reverse("set_language"), {"language": "fr", "next": "/consortia/"})

    assert response.status_code == 302
    assert response["Location"] == "/consortia/"
    # The choice outranks the browser's Accept-Language, on every later page.
    for url in (reverse("consortia:list"), reverse("agreements:list")):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").text
        assert '<html lang="fr">' in page
        assert "Se déconnecter" in page

    client.post(reverse("set_language"), {"language": "en-gb", "next": "/consortia/"})
    assert "Sign out" in client.get(reverse("consortia:list")).text


def test_api_error_codes_stay_the_same_in_french(world: World, api_as: Any) -> None:
    response = api_as(None).get("/api/v1/consortia/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def _main_pages(world: World) -> list[str]:
    consortium = world.consortium_a.pk
    return [
        reverse("home"),
        reverse("consortia:list"),
        reverse("consortia:detail", args=[consortium]),
        reverse("consortia:motions", args=[consortium]),
        reverse("consortia:meetings", args=[consortium]),
        reverse("consortia:plan", args=[consortium]),
        reverse("consortia:risks", args=[consortium]),
        reverse("consortia:health", args=[consortium]),
        reverse("consortia:organisation-list"),
        reverse("consortia:organisation-detail", args=[world.org_chair.pk]),
        reverse("consortia:inbox"),
        reverse("consortia:tokens"),
        reverse("audit:activity", args=[consortium]),
        reverse("agreements:list"),
        reverse("agreements:datasets"),
        reverse("agreements:ip-assets"),
        reverse("agreements:verify"),
        reverse("compute:pools"),
        reverse("compute:providers"),
        reverse("compute:queue", args=[consortium]),
        reverse("compute:consortium-fair-share", args=[consortium]),
        reverse("webhooks:endpoints"),
        reverse("webhooks:destinations", args=[consortium]),
        reverse("partners:list", args=[world.org_chair.pk]),
        reverse("sso:link"),
        reverse("sso:settings", args=[world.org_chair.pk]),
    ]


def test_main_pages_render_in_french(world: World, browser_as: Any) -> None:
    client = browser_as(world.chair)
    for url in _main_pages(world):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 200, url
        assert '<html lang="fr">' in response.text, url


# The catalogue


def test_french_catalogue_is_complete() -> None:
    entries = messages(PO_PATH)
    header = read_po(PO_PATH)[0]

    assert len(entries) > 1000
    assert "fuzzy" not in header.flags
    assert "Language: fr\n" in header.msgstr[0]
    assert [entry.msgid for entry in entries if "fuzzy" in entry.flags] == []
    untranslated = [
        entry.msgid
        for entry in entries
        if not entry.msgstr or any(not text.strip() for text in entry.msgstr.values())
    ]
    assert untranslated == []
    plurals = [entry for entry in entries if entry.msgid_plural is not None]
    assert plurals
    assert all(sorted(entry.msgstr) == [0, 1] for entry in plurals)


def test_french_catalogue_keeps_every_placeholder() -> None:
    placeholder = re.compile(r"%\([a-z_0-9]+\)s|\{[a-z_]+\}")
    for entry in messages(PO_PATH):
        expected = set(placeholder.findall(entry.msgid + (entry.msgid_plural or "")))
        for text in entry.msgstr.values():
            assert set(placeholder.findall(text)) <= expected, entry.msgid
        assert set(placeholder.findall(entry.msgstr[len(entry.msgstr) - 1])) == expected, (
            entry.msgid
        )


def test_compiled_catalogue_matches_the_po() -> None:
    with MO_PATH.open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in messages(PO_PATH):
        if entry.msgid_plural is None:
            found = (
                catalogue.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt
                else catalogue.gettext(entry.msgid)
            )
            assert found == entry.msgstr[0], f"stale .mo: {entry.msgid!r}"
        else:
            for count, index in ((1, 0), (2, 1)):
                found = catalogue.ngettext(entry.msgid, entry.msgid_plural, count)
                assert found == entry.msgstr[index], f"stale .mo: {entry.msgid!r}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) is absent")
def test_french_catalogue_is_up_to_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages over a copy of the sources finds nothing the committed .po lacks."""
    base = Path(settings.BASE_DIR)
    source = tmp_path / "source"
    shutil.copytree(
        base,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "node_modules", "staticfiles", *MAKEMESSAGES_IGNORE
        ),
    )
    locale = source / "locale"
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[locale]):
        call_command(
            "makemessages", locale=["fr"], ignore_patterns=MAKEMESSAGES_IGNORE, verbosity=0
        )

    fresh = keys(messages(locale / "fr" / "LC_MESSAGES" / "django.po"))
    committed = keys(messages(PO_PATH))
    assert sorted(fresh - committed, key=str) == [], "run makemessages -l fr and translate"
    assert sorted(committed - fresh, key=str) == [], "run makemessages -l fr to drop stale ones"
