"""The Korean runbook carries every section of the English one, in the same order.

Each heading of docs/OPERATIONS.ko.md is followed by `<!-- en: <the English heading> -->`;
a section added to docs/OPERATIONS.md without its Korean translation fails here.
"""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
ANCHOR = re.compile(r"^<!-- en: (.+?) -->\s*$")
HANGUL = re.compile("[\uac00-\ud7a3]")


def english_headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every heading outside code blocks."""
    found, in_code = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def korean_sections(text: str) -> list[tuple[int, str, str]]:
    """(level, Korean title, the English title its anchor names) of every heading."""
    lines = text.splitlines()
    found, in_code = [], False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            anchor = ANCHOR.match(following)
            found.append(
                (len(match.group(1)), match.group(2), anchor.group(1) if anchor else "")
            )
    return found


def test_the_korean_runbook_has_every_section_of_the_english_one_in_order():
    english = english_headings((DOCS / "OPERATIONS.md").read_text())
    korean = korean_sections((DOCS / "OPERATIONS.ko.md").read_text())

    missing = [title for _, title in english if title not in {k[2] for k in korean}]
    assert not missing, f"OPERATIONS.ko.md lacks these sections: {missing}"
    assert [(level, anchor) for level, _, anchor in korean] == english


def test_every_korean_heading_is_written_in_korean_or_is_code():
    korean = korean_sections((DOCS / "OPERATIONS.ko.md").read_text())

    assert korean
    untranslated = [
        title
        for _, title, _ in korean
        if not HANGUL.search(title) and not title.startswith("`")
    ]
    assert not untranslated


def test_the_korean_runbook_is_as_complete_as_the_english_one():
    # Not a summary: every table row and code line of the English guide is there.
    english = (DOCS / "OPERATIONS.md").read_text()
    korean = (DOCS / "OPERATIONS.ko.md").read_text()

    def rows(text):
        return sum(1 for line in text.splitlines() if line.startswith("| "))

    def commands(text):
        return set(re.findall(r"manage\.py [a-z_]+", text))

    assert rows(korean) >= rows(english)
    assert commands(english) <= commands(korean)
