"""The project's own documentation stands on its own: no pointers outside the
repository, every relative link resolves, every dependency is explained."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#]+)(#[^)]*)?\)")


def test_the_docs_exist():
    names = {p.name for p in DOCS}
    assert {"architecture.md", "domain-rules.md", "operations.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_pointer_outside_the_repository(doc):
    text = doc.read_text()
    assert "../shared" not in text and "/work/" not in text


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    for target, _anchor in LINK.findall(doc.read_text()):
        if "://" in target:
            continue
        assert (doc.parent / target).exists(), f"{doc.name}: broken link {target}"


def test_every_dependency_is_in_the_readme_table():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    readme = (ROOT / "README.md").read_text().lower()
    table = readme.split("## dependencies, and why")[1]
    missing = [
        name
        for name in (re.split(r"[\[<>=~!;\s]", spec, maxsplit=1)[0] for spec in wanted)
        if name.lower() not in table
    ]
    assert missing == []


def test_the_readme_says_whether_an_api_exists():
    """ "No REST API yet" stays true only while no URL serves one."""
    from django.urls import get_resolver

    def routes(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            yield route
            if hasattr(pattern, "url_patterns"):
                yield from routes(pattern, route)

    has_api = any(
        re.search(r"(^|/)api/", route) or "open311" in route
        for route in routes(get_resolver())
    )
    says_none = "There is no REST API yet" in (ROOT / "README.md").read_text()
    assert says_none != has_api
