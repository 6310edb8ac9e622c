"""The `ivig` command line. Thin: parse arguments, call the core, print. Heavy imports are lazy."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="IVIG infusion planner. Computes and checks a plan a clinician prescribed; "
    "it never invents a dose or a rate.",
)


FORMAT_HELP = "text (a readable table), json (the documented schema) or markdown"


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail([f"--today: not a date. Given: {value!r}. Accepted: YYYY-MM-DD."])
        raise  # pragma: no cover


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(2)


def _load_plan(path: Path, today: date) -> Any:
    from ivig.core.order import OrderError, read_document_file
    from ivig.core.plan import build_plan

    try:
        return build_plan(read_document_file(path), today=today)
    except OrderError as exc:
        _fail([f"{path}: {p.message}" for p in exc.problems])


@app.command()
def plan(
    file: Path = typer.Argument(..., help="Plan file (TOML, or JSON)"),
    format: str = typer.Option("text", "--format", "-f", help=FORMAT_HELP),
    language: str = typer.Option("en", "--language", help="en or es (messages in JSON/text)"),
    today: str | None = typer.Option(
        None, "--today", help="Date for ages when the plan has no start (YYYY-MM-DD)"
    ),
) -> None:
    """Compute and check a prescribed plan. Exit 0: no error findings; 1: errors; 2: bad input."""
    if format not in ("text", "json", "markdown"):
        _fail([f"--format: Given: {format!r}. Accepted: text, json, markdown."])
    if language not in ("en", "es"):
        _fail([f"--language: Given: {language!r}. Accepted: en, es."])
    from ivig.render.plan_json import plan_to_dict
    from ivig.render.plan_text import to_markdown, to_text

    result = _load_plan(file, _today(today))
    doc = plan_to_dict(result, language)
    if format == "json":
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif format == "markdown":
        typer.echo(to_markdown(doc))
    else:
        typer.echo(to_text(doc))
    raise typer.Exit(1 if result.has_errors else 0)


@app.command()
def compare(
    first: Path = typer.Argument(
        ..., metavar="PRESCRIPTION", help="The prescription (the reference): the doctor's plan"
    ),
    second: Path = typer.Argument(
        ..., metavar="PUMP_PLAN", help="The plan compared with it, e.g. the nurse's pump plan"
    ),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    language: str = typer.Option("en", "--language", help="en or es"),
    today: str | None = typer.Option(None, "--today", help="Date for ages (YYYY-MM-DD)"),
) -> None:
    """Compare a plan with its prescription, step by step. The prescription is the reference:
    a pump step above the prescribed rate at the same minute is an error; differences that
    come only from rounding below the pump's 0.1 mL/h or from lb/kg conversion are notes.
    Exit 0: no error differences; 1: errors; 2: bad input."""
    if format not in ("text", "json"):
        _fail([f"--format: Given: {format!r}. Accepted: text, json."])
    from ivig.core.compare import compare as run_compare
    from ivig.render.compare_json import comparison_to_dict

    day = _today(today)
    result = run_compare(_load_plan(first, day), _load_plan(second, day))
    doc = comparison_to_dict(result, language)
    if format == "json":
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        from ivig.render.compare_text import to_text as compare_text

        typer.echo(compare_text(doc, str(first), str(second)))
    raise typer.Exit(1 if result.has_errors else 0)


@app.command()
def products(
    product_id: str | None = typer.Argument(None, help="A product id, e.g. privigen"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """List the product catalogue, or show one product with the source of every fact."""
    from ivig.core.catalogue import load_catalogue
    from ivig.render.catalogue_text import product_dict, product_text, products_text

    catalogue = load_catalogue()
    if product_id is None:
        if format == "json":
            typer.echo(
                json.dumps(
                    [product_dict(catalogue, p) for p in catalogue.products.values()],
                    indent=2,
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(products_text(catalogue))
        return
    key = product_id.lower().replace("-", "_")
    if key not in catalogue.products:
        _fail(
            [
                f"product: unknown product. Given: {product_id!r}. Accepted: "
                + ", ".join(sorted(catalogue.products))
                + "."
            ]
        )
    product = catalogue.products[key]
    if format == "json":
        typer.echo(json.dumps(product_dict(catalogue, product), indent=2, ensure_ascii=False))
    else:
        typer.echo(product_text(catalogue, product))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int = typer.Option(8000, "--port", help="Port to listen on"),
    demo: bool = typer.Option(
        False, "--demo", help="Load a demo care team and patient; print the demo logins"
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="gunicorn sync worker processes"),
) -> None:
    """Run the web app: migrate the database, then serve with gunicorn (see docs/web.md)."""
    from ivig.web.server import run

    run(host=host, port=port, demo=demo, workers=workers)


@app.command()
def triage(
    file: Path,
    format: str = typer.Option("text", "--format", help="text or json"),
    language: str = typer.Option("en", "--language", help="en or es"),
) -> None:
    """Triage a symptom report (emergency / call the doctor / expected)."""
    from ivig.cli_triage import triage_command

    raise typer.Exit(triage_command(file, format, language))


@app.command()
def calendar(
    file: Path,
    out: Path | None = typer.Option(None, "--out", help="Write the .ics here (default: stdout)"),
    name: str | None = typer.Option(
        None, "--name", help="Put this name in every event title (left out by default)"
    ),
    language: str = typer.Option("en", "--language", help="en or es"),
    next_course_days: int | None = typer.Option(
        None, "--next-course-days", min=1, help="Add the next course this many days after day 1"
    ),
) -> None:
    """Care calendar (.ics): hydration, premedication, infusions, check-ins, vaccine notes."""
    from ivig.core.timeline import TimelineError, care_timeline
    from ivig.render.ical import to_ical

    if language not in ("en", "es"):
        _fail([f"--language: not a language. Given: {language!r}. Accepted: en, es."])
    result = _load_plan(file, _today(None))
    try:
        events = care_timeline(result, next_course_interval_days=next_course_days)
    except TimelineError as exc:
        _fail([f"{file}: {exc}"])
    title = "Plan de IVIG" if language == "es" else "IVIG care plan"
    data = to_ical(
        events,
        calendar_name=f"{title}: {name}" if name else title,
        include_patient_name=name,
        language=language,
    )
    if out is None:
        typer.echo(data.decode("utf-8"), nl=False)
    else:
        out.write_bytes(data)
        typer.echo(f"Wrote {len(events)} events to {out}", err=True)


fhir_app = typer.Typer(
    no_args_is_help=True, help="HL7 FHIR R4 export and import (see docs/fhir.md)."
)
app.add_typer(fhir_app, name="fhir")


def _timezone(value: str | None) -> Any:
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        _fail([f"--timezone: unknown time zone. Given: {value!r}. Accepted: an IANA name such "
               "as Europe/Madrid or UTC."])


@fhir_app.command("export")
def fhir_export(
    file: Path = typer.Argument(..., help="Plan file (TOML, or JSON)"),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA time zone of the plan's local times, e.g. Europe/Madrid "
        "(required when the plan has a start)"
    ),
    patient_id: str = typer.Option("patient", "--patient-id", help="Patient.id to use"),
    order_id: str = typer.Option("order", "--order-id", help="MedicationRequest.id to use"),
    out: Path | None = typer.Option(None, "--out", help="Write the Bundle here (default: stdout)"),
    today: str | None = typer.Option(None, "--today", help="Date for ages (YYYY-MM-DD)"),
) -> None:
    """Export a plan file as a FHIR R4 Bundle (Patient, Observations, MedicationRequests)."""
    from ivig.interop.fhir_export import ExportError, plan_bundle

    plan_result = _load_plan(file, _today(today))
    try:
        data = plan_bundle(
            plan_result,
            patient_id=patient_id,
            request_id=order_id,
            tz=_timezone(timezone),
            measured_at=None,
        )
    except (ExportError, ValueError) as exc:
        problems = getattr(exc, "problems", None)
        _fail([f"{file}: {p.message}" for p in problems] if problems else [f"{file}: {exc}"])
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote a Bundle of {len(data['entry'])} resources to {out}", err=True)


@fhir_app.command("import")
def fhir_import(
    file: Path = typer.Argument(..., help="FHIR JSON: a Bundle, a list, or one resource"),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA time zone to read the order's start in"
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write the draft order document (JSON) here (default: stdout)"
    ),
    today: str | None = typer.Option(None, "--today", help="Date for ages (YYYY-MM-DD)"),
) -> None:
    """Turn a FHIR MedicationRequest and weight Observation into a draft plan file (JSON).

    Exit 0: imported and valid; 2: something could not be mapped (every problem is listed).
    """
    from ivig.core.order import OrderError
    from ivig.core.plan import build_plan
    from ivig.interop.fhir_import import FhirImportError, import_order

    try:
        data = json.loads(file.read_text(encoding="utf-8"), parse_float=str)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail([f"{file}: not readable FHIR JSON: {exc}"])
    try:
        document = import_order(data, tz=_timezone(timezone))
        build_plan(document, today=_today(today))
    except (FhirImportError, OrderError) as exc:
        _fail([f"{file}: {p.message}" for p in exc.problems])
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote a draft order document to {out}", err=True)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
