"""CDS Hooks endpoints: discovery at /cds-services, the order-sign and order-select services,
and the page a card's link opens (the checked plan, behind login). See docs/fhir.md."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from ivig.core.order import OrderError
from ivig.core.plan import build_plan
from ivig.interop import cds
from ivig.render.plan_json import plan_to_dict
from ivig.web.api.fhir_fetch import fetch_missing

LINK_SALT = "ivig.cds.plan-link"
LINK_MAX_AGE_SECONDS = 24 * 60 * 60  # design choice: a card's link works for a day


def _cors(response: HttpResponse) -> HttpResponse:
    # CDS Hooks 2.0 asks services to allow cross-origin calls from EHR web clients.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


def _error(status: int, problems: list[dict[str, Any]]) -> JsonResponse:
    return JsonResponse({"errors": problems}, status=status)


@csrf_exempt
def discovery(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method != "GET":
        return _cors(
            _error(
                405,
                [
                    {
                        "field": "method",
                        "given": request.method,
                        "accepted": "GET",
                        "problem": "not allowed",
                    }
                ],
            )
        )
    return _cors(JsonResponse(cds.discovery()))


@csrf_exempt
def service(request: HttpRequest, service_id: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    hook = cds.service_hook(service_id)
    if hook is None:
        return _cors(
            _error(
                404,
                [
                    {
                        "field": "service",
                        "given": service_id,
                        "accepted": ", ".join(f"ivig-{h}" for h in cds.HOOKS),
                        "problem": "no such CDS service",
                    }
                ],
            )
        )
    if request.method != "POST":
        return _cors(
            _error(
                405,
                [
                    {
                        "field": "method",
                        "given": request.method,
                        "accepted": "POST",
                        "problem": "not allowed",
                    }
                ],
            )
        )
    try:
        body = json.loads(request.body or b"null", parse_float=str)
    except (ValueError, UnicodeDecodeError):
        return _cors(
            _error(
                400,
                [
                    {
                        "field": "body",
                        "given": "(not JSON)",
                        "accepted": "a CDS Hooks request (JSON)",
                        "problem": "not valid JSON",
                    }
                ],
            )
        )
    missing: dict[str, str] = {}
    failed: dict[str, str] = {}
    if isinstance(body, dict):
        missing = cds.missing_prefetch(body)
        if missing:
            fetched, failed = fetch_missing(body, missing)
            if fetched:
                body = {**body, "prefetch": {**(body.get("prefetch") or {}), **fetched}}
    tz = ZoneInfo(settings.TIME_ZONE)
    try:
        checked = cds.check_orders(body, hook=hook, today=timezone.localdate(), tz=tz)
    except cds.CdsRequestError as exc:
        return _cors(
            _error(
                400,
                [
                    {
                        "field": p.field,
                        "given": p.given,
                        "accepted": p.accepted,
                        "problem": p.problem,
                    }
                    for p in exc.problems
                ],
            )
        )

    def link(document: dict[str, Any]) -> str:
        private = {
            **document,
            "patient": {k: v for k, v in document["patient"].items() if k != "name"},
        }
        token = signing.dumps(private, salt=LINK_SALT, compress=True)
        return request.build_absolute_uri(reverse("cds_plan", args=[token]))

    response = cds.cards_for(
        checked,
        app_url=request.build_absolute_uri("/"),
        plan_link=link,
        missing=[k for k in missing if k in failed],
    )
    return _cors(JsonResponse(response, json_dumps_params={"default": str}))


@login_required
def plan(request: HttpRequest, token: str) -> HttpResponse:
    """The plan a CDS card points at: computed again from the signed order, stored nowhere."""
    from ivig.web.plans.views import plan_display

    try:
        document = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return render(request, "api/cds_plan.html", {"expired": True}, status=404)
    language = "es" if translation.get_language() == "es" else "en"
    try:
        result = build_plan(document, today=timezone.localdate())
    except OrderError as exc:
        return render(request, "api/cds_plan.html", {"problems": exc.problems}, status=400)
    context = plan_display(plan_to_dict(result, language), language, prefix="cds-")
    return render(request, "api/cds_plan.html", context)
