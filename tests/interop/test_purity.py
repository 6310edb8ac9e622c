"""The interop package is pure mapping: no Django, no database, no network (the web layer
fetches from FHIR servers and hands the resources in)."""

from pathlib import Path

import ivig.interop
from tests.core.test_purity import FORBIDDEN, _imports

INTEROP = Path(ivig.interop.__file__).parent


def test_interop_imports_no_web_framework_database_or_network() -> None:
    files = sorted(INTEROP.glob("*.py"))
    assert len(files) >= 4
    offenders = {f.name: _imports(f) & set(FORBIDDEN) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}
