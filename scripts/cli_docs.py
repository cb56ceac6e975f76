"""Write docs/cli.md, every tinyconv command with its help and options, from the command's own click
definitions, so that the page cannot drift from the command: ``python3 scripts/cli_docs.py``.

tests/test_cli_docs.py checks that the committed page is what this script writes.
"""

import sys
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tinyconv.cli import main  # noqa: E402

PAGE = REPO / "docs" / "cli.md"
# A fixed width: the page is the same whatever terminal runs the script.
WIDTH = 100


def _sections(command, context, path):
    """The page's sections for ``command`` (reached as ``path``) and, for a group, its subcommands."""
    sections = [f"## {path}\n\n```text\n{command.get_help(context)}\n```\n"]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            sub = command.commands[name]
            sections += _sections(sub, click.Context(sub, info_name=name, parent=context, terminal_width=WIDTH,
                                                     max_content_width=WIDTH), f"{path} {name}")
    return sections


def render():
    """The text of docs/cli.md."""
    context = click.Context(main, info_name="tinyconv", terminal_width=WIDTH, max_content_width=WIDTH,
                            **main.context_settings)
    header = ("# The tinyconv command\n\nEvery command with its options, as `--help` prints them. This page is written "
              "by `python3 scripts/cli_docs.py` from the command's own definitions; a test checks that it is "
              "current.\n")
    return "\n".join([header, *_sections(main, context, "tinyconv")])


if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
