"""The shape of the code: no module over ~400 lines, and every public function over 8 lines says
why in a docstring (the review's rules; import floors are import-linter's, in CI)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ids_extract"
MAX_LINES = 420


def test_no_module_is_a_flat_room() -> None:
    long = {str(f.relative_to(PACKAGE)): n for f in PACKAGE.rglob("*.py")
            if (n := f.read_text(encoding="utf-8").count("\n")) > MAX_LINES}
    assert not long, f"split these modules: {long}"


def test_public_functions_over_eight_lines_have_docstrings() -> None:
    missing = []
    for f in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not node.name.startswith("_")
                    and (node.end_lineno or node.lineno) - node.lineno + 1 > 8
                    and ast.get_docstring(node) is None):
                missing.append(f"{f.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert not missing, missing
