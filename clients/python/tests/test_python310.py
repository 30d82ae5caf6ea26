"""The client runs on Python 3.10: no 3.11+ syntax or standard library in it (this interpreter may be newer)."""
from __future__ import annotations

import ast
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "agent_progress_gateway").glob("*.py"), *(ROOT / "scripts").glob("*.py")])

# Standard library added after 3.10, as modules or as names imported or used from a module.
NEWER_MODULES = {"tomllib", "wsgiref.types"}
NEWER_NAMES = {
    "asyncio": {"TaskGroup", "timeout", "timeout_at", "Runner", "Barrier"},
    "typing": {"Self", "Never", "LiteralString", "assert_never", "assert_type", "reveal_type", "TypeVarTuple", "Unpack",
               "Required", "NotRequired", "dataclass_transform", "override"},
    "enum": {"StrEnum", "ReprEnum", "verify", "member", "nonmember", "global_enum"},
    "datetime": {"UTC"},
    "hashlib": {"file_digest"},
    "operator": {"call"},
    "logging": {"getLevelNamesMapping"},
    "contextlib": {"chdir"},
}
NEWER_BUILTINS = {"ExceptionGroup", "BaseExceptionGroup"}


class Python310Test(unittest.TestCase):
    def test_sources_parse_as_python_3_10(self):
        self.assertGreater(len(SOURCES), 5)
        for path in SOURCES:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 10))
            for node in ast.walk(tree):
                self.assertFalse(type(node).__name__ in ("TryStar", "TypeAlias", "TypeVar"), f"{path.name}:{getattr(node, 'lineno', '?')}")

    def test_sources_use_no_standard_library_newer_than_3_10(self):
        for path in SOURCES:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                where = f"{path.name}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        self.assertNotIn(alias.name, NEWER_MODULES, where)
                if isinstance(node, ast.ImportFrom) and node.module:
                    self.assertNotIn(node.module, NEWER_MODULES, where)
                    names = {alias.name for alias in node.names}
                    self.assertFalse(names & NEWER_NAMES.get(node.module, set()), where)
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    self.assertNotIn(node.attr, NEWER_NAMES.get(node.value.id, set()), where)
                if isinstance(node, ast.Name):
                    self.assertNotIn(node.id, NEWER_BUILTINS, where)


if __name__ == "__main__":
    unittest.main()
