"""The floors of the package import only the floors below them: nothing outside the command line imports
the command line or click."""

import ast
from pathlib import Path

import pytest

import tinyconv

PACKAGE = Path(tinyconv.__file__).parent


def _imports(path, package=PACKAGE):
    """The absolute names of the modules that the file at ``path``, inside the folder ``package`` of the
    tinyconv package, imports (relative imports resolved)."""
    module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
    here = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                base = f"{parent}.{base}" if base else parent
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


LIBRARY = sorted(path for path in PACKAGE.rglob("*.py") if "cli" not in path.relative_to(PACKAGE).parts[:1]
                 and path.name != "__main__.py")


@pytest.mark.parametrize("path", LIBRARY, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_library_does_not_import_the_command_line(path):
    upward = [name for name in _imports(path) if name == "click" or name.startswith(("click.", "tinyconv.cli"))]
    assert not upward, f"{path.relative_to(PACKAGE)} imports {upward}"


def test_the_import_reader_sees_relative_imports_of_the_command_line(tmp_path):
    # The check above must be able to fail: a library module's relative import of the cli is seen as one.
    fake = tmp_path / "tinyconv" / "sweep" / "trial.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..cli.train import run_training\nfrom . import space\nimport click\n")
    names = _imports(fake, tmp_path / "tinyconv")
    assert {"tinyconv.cli.train", "tinyconv.sweep.space", "click"} <= set(names)
