"""The README documents every finding code, and its generated table is current."""

from pathlib import Path

from ivig.core.findings import specs
from ivig.render.findings_table import markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_findings_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- findings:start -->") + len("<!-- findings:start -->")
    end = text.index("<!-- findings:end -->")
    assert text[start:end].strip() == markdown_table().strip()


def test_every_finding_code_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [code for code in specs() if f"`{code}`" not in text]
    assert missing == []
