"""The project's shape: the apps' direction of dependency and migrations that
match the models. Both fail the suite, not a reviewer's eye."""

import io
from pathlib import Path

from django.core.management import call_command
from importlinter import cli

ROOT = Path(__file__).resolve().parents[2]


def test_apps_import_only_the_apps_below_them(monkeypatch):
    # The contracts live in pyproject.toml ([tool.importlinter]).
    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_a_forbidden_import_breaks_the_contract(tmp_path, monkeypatch):
    """The check is real: a copy of the grids contract over a package that imports
    tickets is reported broken."""
    package = tmp_path / "fakegrids"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text("import tickets.choices\n")
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["fakegrids", "tickets"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "fakegrids imports no other app"\n'
        'type = "forbidden"\n'
        'source_modules = ["fakegrids"]\n'
        'forbidden_modules = ["tickets"]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(config_filename=str(config), no_cache=True) == 1


def test_no_model_change_lacks_a_migration(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
