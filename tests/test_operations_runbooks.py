"""The runbooks in docs/OPERATIONS.md name commands and API paths that exist."""

import re
from pathlib import Path

from django.core.management import get_commands
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = (ROOT / "docs" / "OPERATIONS.md").read_text()
# The guide's troubleshooting chapter, in its order.
GUIDE_PROBLEMS = (
    "### 1. A retrain failed",
    "### 2. Accuracy dropped",
    "### 3. Inference is slow",
    "### 4. The model file is corrupt",
)


def test_every_manage_py_command_the_operations_docs_name_exists():
    named = set(re.findall(r"manage\.py ([a-z_]+)", OPERATIONS))

    assert named, "the runbooks name no command"
    assert named - set(get_commands()) == set()


def test_every_staff_api_path_the_operations_docs_name_resolves():
    paths = set(re.findall(r"/api/admin/[A-Za-z0-9_<>/.-]*[A-Za-z0-9>/]", OPERATIONS))
    unresolved = []
    for path in paths:
        concrete = path.replace("<version>", "lotto_model_20260101").replace("N/", "1/")
        try:
            resolve(concrete)
        except Resolver404:
            unresolved.append(path)

    assert len(paths) >= 10
    assert unresolved == []


def test_the_runbooks_follow_the_guides_problems_in_its_order():
    positions = [OPERATIONS.index(heading) for heading in GUIDE_PROBLEMS]

    assert positions == sorted(positions)
    assert "### The guide's names in this project" in OPERATIONS
