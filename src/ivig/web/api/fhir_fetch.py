"""Fetch missing CDS Hooks prefetch from the EHR's FHIR server (CDS Hooks 2.0, "Prefetch").

Only servers listed in IVIG_CDS_FHIR_SERVERS are contacted (a request names its own
``fhirServer``; without an allow-list the service could be used to reach any address). Every
failure becomes a short reason; nothing here raises into the view.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from django.conf import settings

TIMEOUT_SECONDS = 5
MAX_BYTES = 2_000_000


def allowed(server: str) -> bool:
    prefixes: list[str] = list(getattr(settings, "IVIG_CDS_FHIR_SERVERS", []))
    base = server.rstrip("/") + "/"
    return any(base.startswith(p.rstrip("/") + "/") for p in prefixes)


def fetch_missing(
    request: Mapping[str, Any], queries: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(prefetch key -> resource or Bundle fetched, prefetch key -> why it was not fetched)."""
    server = request.get("fhirServer")
    auth = request.get("fhirAuthorization")
    fetched: dict[str, Any] = {}
    failed: dict[str, str] = {}
    if not isinstance(server, str) or not server:
        return fetched, {key: "no fhirServer in the request" for key in queries}
    if not allowed(server):
        return fetched, {key: f"{server} is not an allowed FHIR server" for key in queries}
    token = auth.get("access_token") if isinstance(auth, Mapping) else None
    for key, query in queries.items():
        url = server.rstrip("/") + "/" + query
        headers = {"Accept": "application/fhir+json"}
        if isinstance(token, str) and token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            req = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:
                body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                failed[key] = "the answer was too large"
                continue
            fetched[key] = json.loads(body, parse_float=str)
        except urllib.error.HTTPError as exc:
            failed[key] = f"the FHIR server answered {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            failed[key] = f"the FHIR server could not be reached ({exc})"
        except ValueError:
            failed[key] = "the FHIR server's answer was not JSON"
    return fetched, failed
