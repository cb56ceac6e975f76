"""docs/cli.md is what scripts/cli_docs.py writes from the command's definitions: it cannot drift."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("cli_docs", REPO / "scripts" / "cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_page_is_current():
    page = (REPO / "docs" / "cli.md").read_text()
    assert page == _script().render(), "docs/cli.md is stale: run python3 scripts/cli_docs.py"


def test_the_page_has_every_command_and_option():
    from tinyconv.cli import main

    page = (REPO / "docs" / "cli.md").read_text()
    for name, command in main.commands.items():
        assert f"## tinyconv {name}\n" in page
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--"):
                    assert option in page, f"{name} {option}"
