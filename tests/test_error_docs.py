"""Issue 17 point 4: every error code the code base can return is listed, with its meaning, in the
"Errors" section of docs/integrators.md; and every code listed there is one kehu raises.

Codes are found by reading the source of core/, gateway/ and plugins/ (not by importing it): every
string constant shaped like a code (``UPPER_SNAKE`` with at least two words) wherever it stands
(``KehuError("CODE", …)``, a subclass's ``super().__init__("CODE", …)``, a helper's first argument,
``code=``, an error map's keys and values, a returned code), and an f-string starting with one
(``f"WEBHOOK_HTTP_{status}"``, listed as ``WEBHOOK_HTTP_<status>``). A constant of that shape that
is not an error code goes into NOT_CODES with the reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("core", "gateway", "plugins")
DOCS = ROOT / "docs" / "integrators.md"
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
PREFIX = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_$")
# Constants shaped like codes that are no error code: environment variable names and the like.
NOT_CODES = {
    "KEHU_ERROR",  # KehuError's class default, replaced by every instance's own code
    "PICCOLO_CONF",  # Piccolo's environment variable
    "PROJECT_NAME",  # pluggy's project name constant
    "DIRECT_RELATIONS",  # the plugin contract's set of direct-relative relations (core.plugins)
    # an employee's training standing (seed-004 CSM-30, core.governance.training_policy), a state
    "IN_GOOD_STANDING", "RETAKE_OR_RETRAIN", "PENALTY_ELIGIBLE",
    # reasons of a customer deletion request (seed-004 §2.4.1, core.governance.deletion_policy), input values
    "BUSINESS_TERMINATED_NOT_NEEDED", "DATA_ERROR", "LEGAL_OR_POLICY",
}


def _is_setting_name(value: str) -> bool:
    return value.startswith("KEHU_")  # environment variables (settings), never returned to clients


def raised_codes() -> dict[str, str]:
    """Each code found in the source, with the first file it appears in."""
    found: dict[str, str] = {}
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
                    code = node.value
                elif (isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant)
                      and isinstance(node.values[0].value, str) and PREFIX.match(node.values[0].value)):
                    code = node.values[0].value + "<"
                else:
                    continue
                if code not in NOT_CODES and not _is_setting_name(code):
                    found.setdefault(code, str(path.relative_to(ROOT)))
    return found


def documented_codes() -> set[str]:
    """The codes in backticks in the Errors section (``WEBHOOK_HTTP_<status>`` as a prefix)."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("\n## Errors\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end != -1 else None]
    codes = set()
    for token in re.findall(r"`([^`\s]+)`", section):
        if CODE.match(token):
            codes.add(token)
        elif "<" in token and PREFIX.match(token.split("<", 1)[0]):
            codes.add(token.split("<", 1)[0] + "<")
    return codes


def test_every_code_the_code_base_raises_is_documented():
    """Issue 17 point 4: a code an integrator can receive is never missing from the guide."""
    documented = documented_codes()
    missing = {code: where for code, where in raised_codes().items() if code not in documented}
    assert missing == {}, ("codes raised but not listed in the Errors section of docs/integrators.md "
                           f"(add them with their meaning, or to NOT_CODES if they are no error code): {missing}")


def test_every_documented_code_is_raised_somewhere():
    """Issue 17 point 4: the guide lists no code kehu cannot return (a renamed or removed one)."""
    stale = documented_codes() - set(raised_codes())
    assert stale == set(), f"listed in docs/integrators.md but raised nowhere: {sorted(stale)}"


def test_the_scan_finds_codes_however_they_are_raised():
    """Issue 17 point 4: the scan itself sees every way the code base raises a code (so the two
    tests above are not vacuous)."""
    codes = raised_codes()
    for code in ("NOT_FOUND",  # NotFound's super().__init__
                 "DUPLICATE_IDENTIFIER",  # a KehuError subclass
                 "NAME_PLACEHOLDER",  # the validation helper invalid(code, …)
                 "QUERY_TOO_DEEP",  # a validation rule given its code
                 "BATCHING_DISABLED",  # a value of an error map
                 "WEBHOOK_TIMEOUT",  # a returned code
                 "WEBHOOK_HTTP_<",  # an f-string
                 "GRAPHQL_PARSE_FAILED"):
        assert code in codes, code
    assert not any(_is_setting_name(code) for code in codes)
