"""docs/reliability.md cannot rot: every test its fault matrix names exists and is in the
reliability suite, and every module of the suite is named by the matrix."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
MATRIX_HEADING = "## The fault matrix"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def matrix_rows() -> list[list[str]]:
    """The cells of each body row of the table under the matrix heading."""
    text = DOC.read_text(encoding="utf-8")
    assert MATRIX_HEADING in text, f"{DOC} has no {MATRIX_HEADING!r} section"
    section = text.split(MATRIX_HEADING, 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert len(table) > 2, "the fault matrix table is missing"
    header, separator, *body = table
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "fault",
        "expected behaviour",
        "shown by",
    ]
    assert set(separator) <= set("|-: ")
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in body]


def references() -> list[tuple[str, str]]:
    found = [m.groups() for row in matrix_rows() for m in REFERENCE.finditer(row[2])]
    return sorted(set(found))


@cache
def module(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"))


def names_reliability(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "reliability" for n in ast.walk(node))


def module_is_marked(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
        and names_reliability(node.value)
        for node in tree.body
    )


def test_every_row_has_a_behaviour_and_a_test() -> None:
    rows = matrix_rows()
    assert len(rows) >= 20
    for fault, behaviour, shown_by in rows:
        assert fault, behaviour
        assert len(behaviour.split()) >= 3, f"{fault}: say what is expected"
        assert REFERENCE.search(shown_by), f"{fault}: no test named as `path::test_name`"


@pytest.mark.parametrize(("path", "name"), references(), ids="::".join)
def test_the_named_test_exists_and_is_in_the_reliability_suite(path: str, name: str) -> None:
    assert (ROOT / path).is_file(), f"{path} does not exist"
    tree = module(path)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert name in functions, f"{path} has no {name}"
    marked = module_is_marked(tree) or any(
        names_reliability(decorator) for decorator in functions[name].decorator_list
    )
    assert marked, f"{path}::{name} is not marked reliability: `make reliability` skips it"


def test_every_module_of_the_suite_is_in_the_matrix() -> None:
    named = {path for path, _ in references()}
    suite = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("test_*.py")
        if module_is_marked(module(path.relative_to(ROOT).as_posix()))
    }
    suite.discard(Path(__file__).relative_to(ROOT).as_posix())
    missing = sorted(suite - named)
    assert missing == [], f"in the reliability suite but not in {DOC.name}: {missing}"
