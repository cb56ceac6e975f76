"""``python -m tinyconv``: the same as the ``tinyconv`` command."""

from .cli import main

main(prog_name="tinyconv")
