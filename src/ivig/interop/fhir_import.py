"""FHIR R4 resources (as an EHR sends them) -> a draft order document.

Accepts a MedicationRequest for IVIG and a body-weight Observation (and optionally a Patient,
a height Observation, Conditions and the premedication/saline MedicationRequests of the same
order), alone, in a list or in a Bundle. Every resource is first validated against its R4B model;
then each element is mapped through data/fhir.toml. Anything that cannot be mapped is a
:class:`FhirImportError` naming the element, what was given and what is accepted: the importer
never guesses. The result is the plain order document mapping, which the one order validator
(ivig.core.order) then checks like any plan file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ivig.core.order import Problem
from ivig.core.vocabulary import CONDITIONS
from ivig.interop.tables import Tables, load

Json = dict[str, Any]


class FhirImportError(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


SUPPORTED = ("MedicationRequest", "Observation", "Patient", "Condition", "Medication")
# Records of what happened (a patient's exported Bundle has them): not part of an order, so an
# order import passes over them; every other resource type is refused by name.
RECORDS = ("MedicationAdministration", "AdverseEvent")


def flatten(data: object) -> list[Json]:
    """A Bundle, a list of resources or one resource -> the list of resources (unvalidated)."""
    if isinstance(data, list):
        out: list[Json] = []
        for item in data:
            out.extend(flatten(item))
        return out
    if isinstance(data, Mapping):
        if data.get("resourceType") == "Bundle":
            entries = data.get("entry") or []
            if not isinstance(entries, list):
                raise FhirImportError(
                    [Problem("Bundle.entry", entries, "a list of entries", "not a list")]
                )
            return [
                dict(e["resource"])
                for e in entries
                if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)
            ]
        return [dict(data)]
    raise FhirImportError(
        [
            Problem(
                "document", type(data).__name__, "a FHIR resource, a list or a Bundle", "not JSON"
            )
        ]
    )


def validate_resources(resources: Sequence[Json]) -> list[Problem]:
    problems = []
    for i, resource in enumerate(resources):
        kind = resource.get("resourceType")
        where = f"resource[{i}]"
        if not isinstance(kind, str):
            problems.append(
                Problem(f"{where}.resourceType", kind, "a FHIR resource type", "missing")
            )
            continue
        try:
            model = get_fhir_model_class(kind)
        except (KeyError, ValueError):
            problems.append(
                Problem(f"{where}.resourceType", kind, "a FHIR R4 resource type", "unknown type")
            )
            continue
        try:
            model.model_validate(resource)
        except ValidationError as exc:
            for err in exc.errors()[:10]:
                loc = ".".join(str(x) for x in err["loc"] if x != "__root__")
                problems.append(
                    Problem(
                        f"{kind}.{loc}" if loc else kind,
                        _short(err.get("input")),
                        f"a valid FHIR R4 {kind}",
                        str(err["msg"]),
                    )
                )
    return problems


def _short(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


class _Reader:
    def __init__(self, tables: Tables, tz: tzinfo | None) -> None:
        self.t = tables
        self.tz = tz
        self.problems: list[Problem] = []

    def add(self, field: str, given: object, accepted: str, problem: str) -> None:
        self.problems.append(Problem(field, _short(given), accepted, problem))

    def code_in(self, concept: object, system_name: str) -> str | None:
        """The code from our code system in a CodeableConcept (or a Coding), else None."""
        system = self.t.system(system_name)
        codings: list[Any] = []
        if isinstance(concept, Mapping):
            if "coding" in concept:
                codings = list(concept.get("coding") or [])
            elif "code" in concept:
                codings = [concept]
        for coding in codings:
            if isinstance(coding, Mapping) and coding.get("system") == system:
                code = coding.get("code")
                return str(code) if code is not None else None
        return None

    def quantity_text(self, value: object, field: str, accepted: str) -> str | None:
        """A FHIR Quantity -> "<value> <unit>" in the order document's unit words."""
        if not isinstance(value, Mapping):
            self.add(field, value, accepted, "missing")
            return None
        number = value.get("value")
        code = value.get("code")
        system = value.get("system")
        if number is None:
            self.add(field, value, accepted, "the quantity has no value")
            return None
        if system != self.t.system("ucum") or not isinstance(code, str):
            self.add(
                field,
                value,
                f"{accepted}, with system {self.t.system('ucum')} and a UCUM code",
                "the unit is not a UCUM code",
            )
            return None
        unit = self.t.ucum_to_order_unit.get(code)
        if unit is None:
            self.add(
                field,
                code,
                "one of the UCUM codes " + ", ".join(sorted(self.t.ucum_to_order_unit)),
                "this UCUM unit is not mapped",
            )
            return None
        return f"{_plain(number)} {unit}"

    def local_datetime(self, value: object, field: str) -> str | None:
        if not isinstance(value, str):
            self.add(field, value, "a FHIR dateTime with a time", "missing")
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.add(field, value, "a FHIR dateTime such as 2026-12-01T08:30:00+01:00", "invalid")
            return None
        if len(value) <= 10:
            self.add(
                field,
                value,
                "a date and time (the start of the first infusion)",
                "only a date was given",
            )
            return None
        if parsed.tzinfo is not None:
            if self.tz is None:
                self.add(
                    field,
                    value,
                    "a time zone to read times in (e.g. --timezone Europe/Madrid)",
                    "the order's start has a time zone offset but no local time zone was given",
                )
                return None
            parsed = parsed.astimezone(self.tz).replace(tzinfo=None)
        return parsed.isoformat(timespec="minutes")


def _plain(number: object) -> str:
    value = Decimal(str(number))
    text = format(value, "f")
    return text


def _by_type(resources: Sequence[Json], kind: str) -> list[Json]:
    return [r for r in resources if r.get("resourceType") == kind]


def _extension(resource: Mapping[str, Any], url: str) -> Mapping[str, Any] | None:
    for ext in resource.get("extension") or []:
        if isinstance(ext, Mapping) and ext.get("url") == url:
            return ext
    return None


def _role(r: _Reader, request: Mapping[str, Any]) -> str | None:
    for concept in request.get("category") or []:
        code = r.code_in(concept, "role")
        if code:
            return code
    return None


def import_order(
    data: object,
    *,
    tz: tzinfo | None = None,
    unmapped_conditions: list[Problem] | None = None,
    request_id: str | None = None,
) -> Json:
    """FHIR JSON -> order document mapping. Raises FhirImportError listing every problem.

    A Condition that cannot be mapped is an error, unless the caller passes a list in
    ``unmapped_conditions``: then it is reported there (CDS Hooks shows it on a card, because a
    check that depends on it could not run) and the order is still read. ``request_id`` picks
    one IVIG MedicationRequest when a Bundle holds several (e.g. a patient's exported plans).
    """
    t = load()
    resources = flatten(data)
    problems = validate_resources(resources)
    if problems:
        raise FhirImportError(problems)
    r = _Reader(t, tz)
    unsupported = sorted(
        {str(x.get("resourceType")) for x in resources} - set(SUPPORTED) - set(RECORDS)
    )
    for kind in unsupported:
        r.add("resourceType", kind, ", ".join(SUPPORTED), "this resource type is not imported")
    requests = _by_type(resources, "MedicationRequest")
    main = [q for q in requests if _role(r, q) in (None, "ivig")]
    if request_id is not None:
        main = [q for q in main if q.get("id") == request_id]
    extras = [q for q in requests if _role(r, q) in ("premedication", "saline")]
    if len(main) == 1 and main[0].get("groupIdentifier") is not None:
        extras = [q for q in extras if q.get("groupIdentifier") == main[0]["groupIdentifier"]]
    if len(main) != 1:
        r.add(
            "MedicationRequest",
            f"{len(main)} IVIG MedicationRequests",
            "exactly one MedicationRequest for the IVIG (premedication and saline requests "
            "carry their category)",
            "cannot tell which request is the IVIG order" if main else "no IVIG order found",
        )
        raise FhirImportError(r.problems)
    request = main[0]
    order = _order(r, request, resources)
    patient = _patient(r, request, resources, unmapped_conditions)
    for extra in extras:
        _extra_request(r, extra, order)
    if r.problems:
        raise FhirImportError(r.problems)
    return {"patient": patient, "order": order}


def _status(
    r: _Reader, resource: Mapping[str, Any], field: str, accepted_key: str, all_key: str
) -> None:
    value = resource.get(field)
    if value not in r.t.value_sets[all_key]:
        r.add(
            f"{resource['resourceType']}.{field}",
            value,
            "one of " + ", ".join(r.t.value_sets[all_key]),
            "not a code of the value set",
        )
    elif value not in r.t.value_sets[accepted_key]:
        r.add(
            f"{resource['resourceType']}.{field}",
            value,
            "one of " + ", ".join(r.t.value_sets[accepted_key]),
            "this status cannot become a draft plan",
        )


def _order(r: _Reader, request: Mapping[str, Any], resources: Sequence[Json]) -> Json:
    t = r.t
    _status(r, request, "status", "accepted_order_status", "medicationrequest_status")
    _status(r, request, "intent", "accepted_order_intent", "medicationrequest_intent")
    order: Json = {}
    product_accepted = f"a coding with system {t.system('product')} and a product id"
    medication: Any = request.get("medicationCodeableConcept")
    med_resource: Mapping[str, Any] | None = None
    reference = (request.get("medicationReference") or {}).get("reference")
    if reference:
        med_resource = _resolve(request, resources, str(reference), "Medication")
        if med_resource is None:
            r.add(
                "MedicationRequest.medicationReference",
                reference,
                "a reference to a contained or included Medication",
                "not found",
            )
        else:
            medication = med_resource.get("code")
    product = r.code_in(medication, "product")
    if product is None:
        r.add(
            "MedicationRequest.medication",
            _concept_text(medication),
            product_accepted,
            "the product is not coded in the product code system",
        )
    else:
        order["product"] = product
    if med_resource is not None:
        for ingredient in med_resource.get("ingredient") or []:
            strength = ingredient.get("strength") or {}
            num = r.quantity_text(
                strength.get("numerator"), "Medication.ingredient.strength", "a mass, e.g. 100 mg"
            )
            den = strength.get("denominator") or {}
            if num is not None:
                if den.get("value") not in (1, Decimal(1), 1.0) or den.get("code") != "mL":
                    r.add(
                        "Medication.ingredient.strength.denominator",
                        den,
                        "1 mL",
                        "the strength must be per 1 mL",
                    )
                else:
                    order["concentration"] = f"{num}/mL"
    for reason in request.get("reasonCode") or []:
        code = r.code_in(reason, "indication")
        if code is None:
            r.add(
                "MedicationRequest.reasonCode",
                _concept_text(reason),
                f"a coding with system {t.system('indication')}",
                "this indication is not coded in the indication code system",
            )
        elif "indication" in order:
            r.add("MedicationRequest.reasonCode", code, "one indication", "more than one")
        else:
            order["indication"] = code
    for key, name in (("dosing_weight", "dosing_weight"), ("vial_rounding", "vial_rounding")):
        ext = _extension(request, t.extension(key))
        if ext is None:
            r.add(
                f"MedicationRequest.extension[{t.extension(key)}]",
                None,
                "the order's " + name.replace("_", " ") + " method (valueCode)",
                "the order does not say; it is never assumed",
            )
        else:
            order[name] = ext.get("valueCode")
    setting = _extension(request, t.extension("setting"))
    if setting is not None:
        order["setting"] = setting.get("valueCode")
    requester = request.get("requester") or {}
    if requester.get("display"):
        order["prescriber"] = requester["display"]
    notes = [n.get("text") for n in request.get("note") or [] if n.get("text")]
    if notes:
        order["notes"] = "\n".join(notes)
    dosages = sorted(request.get("dosageInstruction") or [], key=lambda d: d.get("sequence") or 0)
    if not dosages:
        r.add(
            "MedicationRequest.dosageInstruction",
            None,
            "one Dosage per titration step (sequence 1, 2, ...)",
            "missing",
        )
        return order
    sequences = [d.get("sequence") for d in dosages]
    if sequences != list(range(1, len(dosages) + 1)):
        r.add(
            "MedicationRequest.dosageInstruction.sequence",
            sequences,
            "1, 2, 3, ... (one per titration step)",
            "the steps are not numbered in order",
        )
    first = dosages[0]
    repeat = (first.get("timing") or {}).get("repeat") or {}
    count = repeat.get("count")
    if count is None:
        r.add(
            "Dosage[1].timing.repeat.count", None, "the number of infusion days (1 to 5)", "missing"
        )
    else:
        order["days"] = count
    for key, expected in (("frequency", "1"), ("period", "1"), ("periodUnit", "d")):
        if key in repeat and str(repeat[key]).removesuffix(".0") != expected:
            r.add(
                f"Dosage[1].timing.repeat.{key}",
                repeat[key],
                f"{expected} (one infusion a day)",
                "only one infusion a day can be planned",
            )
    start = (repeat.get("boundsPeriod") or {}).get("start")
    if start is not None:
        value = r.local_datetime(start, "Dosage[1].timing.repeat.boundsPeriod.start")
        if value:
            order["start"] = value
    dose_rate = _ordered_rates(r, first)
    dose_q = next((d.get("doseQuantity") for d in dose_rate if d.get("doseQuantity")), None)
    dose = r.quantity_text(
        dose_q,
        "Dosage[1].doseAndRate.doseQuantity",
        'the prescribed dose, e.g. 2 g/kg (UCUM "g/kg")',
    )
    if dose is not None:
        basis_ext = _extension(request, t.extension("dose_basis"))
        basis = basis_ext.get("valueCode") if basis_ext else None
        per_day = "/d" in str((dose_q or {}).get("code"))
        if basis is None and not per_day and count not in (1, None):
            r.add(
                "Dosage[1].doseAndRate.doseQuantity",
                dose,
                "a per-day dose (UCUM .../d, e.g. 400 mg/kg/d) or the dose-basis extension "
                f"{t.extension('dose_basis')} = course or day",
                "a dose over more than one day without saying whether it is for the whole "
                "course or for each day",
            )
        elif basis == "per_kg_day" or basis == "fixed_day":
            order["dose"] = dose if per_day else f"{dose}/day"
        elif basis in ("per_kg_course", "fixed_course", None):
            order["dose"] = dose
        else:
            r.add(
                "MedicationRequest.extension[dose-basis]",
                basis,
                "per_kg_course, per_kg_day, fixed_course or fixed_day",
                "unknown dose basis",
            )
    rule = _extension(request, t.extension("titration_rule"))
    if rule is not None:
        order["titration"] = _rule(r, rule)
    else:
        steps = []
        for i, dosage in enumerate(dosages):
            where = f"Dosage[{i + 1}]"
            rates = [
                d.get("rateQuantity") for d in _ordered_rates(r, dosage) if d.get("rateQuantity")
            ]
            if len(rates) != 1:
                r.add(
                    f"{where}.doseAndRate.rateQuantity",
                    len(rates),
                    "exactly one ordered rate per step (mL/kg/h, mg/kg/min or mL/h)",
                    "no ordered rate" if not rates else "more than one ordered rate",
                )
                continue
            rate = r.quantity_text(
                rates[0], f"{where}.doseAndRate.rateQuantity", "a rate such as 0.5 mL/kg/h"
            )
            step: Json = {"rate": rate}
            step_repeat = (dosage.get("timing") or {}).get("repeat") or {}
            if step_repeat.get("duration") is not None:
                minutes = _minutes(r, step_repeat, f"{where}.timing.repeat.duration")
                if minutes is not None:
                    step["minutes"] = minutes
            reason = _extension(dosage, t.extension("step_reason"))
            if reason is not None:
                step["reason"] = reason.get("valueString")
            steps.append(step)
        order["titration"] = steps
    return order


def _ordered_rates(r: _Reader, dosage: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The doseAndRate entries that are prescribed (type 'ordered' or no type)."""
    out = []
    for entry in dosage.get("doseAndRate") or []:
        kind = r_code(entry.get("type"), r.t.system("dose_rate_type"))
        if kind in (None, "ordered"):
            out.append(entry)
    return out


def r_code(concept: object, system: str) -> str | None:
    if isinstance(concept, Mapping):
        for coding in concept.get("coding") or []:
            if isinstance(coding, Mapping) and coding.get("system") == system:
                return str(coding.get("code"))
    return None


def _minutes(r: _Reader, repeat: Mapping[str, Any], field: str) -> int | None:
    duration = Decimal(str(repeat.get("duration")))
    unit = repeat.get("durationUnit")
    factors = {"min": Decimal(1), "h": Decimal(60)}
    if unit not in factors:
        r.add(f"{field}Unit", unit, "min or h", "not a unit for a step's length")
        return None
    minutes = duration * factors[str(unit)]
    if minutes != minutes.to_integral_value():
        r.add(field, f"{duration} {unit}", "a whole number of minutes", "not whole minutes")
        return None
    return int(minutes)


def _rule(r: _Reader, ext: Mapping[str, Any]) -> Json:
    out: Json = {}
    for sub in ext.get("extension") or []:
        url = sub.get("url")
        if url in ("start", "increase_by", "max"):
            out[url] = r.quantity_text(
                sub.get("valueQuantity"), f"titration-rule.{url}", "a rate such as 0.5 mL/kg/h"
            )
        elif url in ("every_minutes", "first_step_minutes"):
            out[url] = sub.get("valueInteger")
        else:
            r.add(
                "titration-rule.extension",
                url,
                "start, increase_by, every_minutes, max, first_step_minutes",
                "unknown part",
            )
    return out


def _concept_text(concept: object) -> object:
    if isinstance(concept, Mapping):
        return concept.get("text") or concept.get("coding") or concept
    return concept


def _resolve(
    request: Mapping[str, Any], resources: Sequence[Json], reference: str, kind: str
) -> Mapping[str, Any] | None:
    if reference.startswith("#"):
        for contained in request.get("contained") or []:
            if contained.get("id") == reference[1:] and contained.get("resourceType") == kind:
                return dict(contained)
        return None
    resource_id = reference.rsplit("/", 1)[-1]
    for resource in resources:
        if resource.get("resourceType") == kind and resource.get("id") == resource_id:
            return resource
    return None


def _patient(
    r: _Reader,
    request: Mapping[str, Any],
    resources: Sequence[Json],
    unmapped_conditions: list[Problem] | None,
) -> Json:
    t = r.t
    patient: Json = {}
    subject = str((request.get("subject") or {}).get("reference") or "")
    patients = _by_type(resources, "Patient")
    if len(patients) > 1:
        r.add("Patient", len(patients), "at most one Patient", "more than one patient")
    elif patients:
        p = patients[0]
        if subject and subject.rsplit("/", 1)[-1] != p.get("id"):
            r.add(
                "MedicationRequest.subject",
                subject,
                f"Patient/{p.get('id')}",
                "the order is for another patient",
            )
        names = p.get("name") or []
        if names:
            name = names[0]
            text = (
                name.get("text")
                or " ".join([*(name.get("given") or []), name.get("family") or ""]).strip()
            )
            if text:
                patient["name"] = text
        gender = p.get("gender")
        if gender in ("male", "female"):
            patient["sex"] = gender
        elif gender is not None and gender not in ("other", "unknown"):
            r.add("Patient.gender", gender, "male, female, other, unknown", "not a code")
        if p.get("birthDate"):
            if len(str(p["birthDate"])) != 10:
                r.add(
                    "Patient.birthDate",
                    p["birthDate"],
                    "a full date YYYY-MM-DD",
                    "a partial date cannot give an exact age",
                )
            else:
                patient["birth_date"] = str(p["birthDate"])
    supporting = [str(s.get("reference")) for s in request.get("supportingInformation") or []]
    observations = _by_type(resources, "Observation")
    chosen: dict[str, Mapping[str, Any]] = {}
    for kind in ("weight", "height", "age", "blood_group"):
        spec = t.observations[kind]
        matches = [
            o
            for o in observations
            if any(
                c.get("system") == t.system("loinc") and c.get("code") == spec.loinc
                for c in (o.get("code") or {}).get("coding") or []
            )
        ]
        if len(matches) > 1:
            named = [o for o in matches if f"Observation/{o.get('id')}" in supporting]
            if not named and supporting and kind != "weight":
                continue  # the order names the measurements it was written for: not this kind
            if len(named) != 1:
                r.add(
                    f"Observation[{spec.loinc}]",
                    f"{len(matches)} {spec.display} observations",
                    "one, or the one the order names in supportingInformation",
                    "cannot tell which measurement the order was written for",
                )
                continue
            matches = named
        if matches:
            chosen[kind] = matches[0]
    if "weight" not in chosen:
        r.add(
            "Observation[29463-7]",
            None,
            "a body-weight Observation (LOINC 29463-7) in kg, g or [lb_av]",
            "the weight is required to check a per-kg order",
        )
    for kind, obs in chosen.items():
        spec = t.observations[kind]
        _status(r, obs, "status", "accepted_observation_status", "observation_status")
        subject_ref = str((obs.get("subject") or {}).get("reference") or "")
        if subject and subject_ref and subject_ref != subject:
            r.add(
                f"Observation[{spec.loinc}].subject",
                subject_ref,
                subject,
                "the measurement is for another patient",
            )
        if kind == "blood_group":
            value = obs.get("valueString") or (obs.get("valueCodeableConcept") or {}).get("text")
            if value:
                patient["blood_group"] = value
            continue
        q = obs.get("valueQuantity")
        code = (q or {}).get("code")
        if q is not None and code not in spec.units:
            r.add(
                f"Observation[{spec.loinc}].valueQuantity.code",
                code,
                "one of " + ", ".join(spec.units),
                "not a unit for this measurement",
            )
            continue
        text = r.quantity_text(
            q,
            f"Observation[{spec.loinc}].valueQuantity",
            f"a {spec.display.lower()} with a UCUM unit",
        )
        if text is not None:
            patient[kind] = text
    conditions = []
    for i, condition in enumerate(_by_type(resources, "Condition")):
        if not _current(condition):
            continue
        code = r.code_in(condition.get("code"), "condition")
        if (code is None or code not in CONDITIONS) and unmapped_conditions is not None:
            unmapped_conditions.append(
                Problem(
                    f"Condition[{i}].code",
                    _short(_concept_text(condition.get("code"))),
                    f"a coding with system {t.system('condition')}",
                    "this condition could not be mapped, so the checks that depend on it "
                    "were not run",
                )
            )
        elif code is None or code not in CONDITIONS:
            r.add(
                f"Condition[{i}].code",
                _concept_text(condition.get("code")),
                f"a coding with system {t.system('condition')}: " + ", ".join(sorted(CONDITIONS)),
                "this condition cannot be mapped, so the checks that depend on it could not be run",
            )
        else:
            conditions.append(code)
    patient["conditions"] = sorted(set(conditions))
    first = _extension(request, t.extension("first_infusion"))
    if first is not None:
        patient["first_infusion"] = first.get("valueBoolean")
    previous = _extension(request, t.extension("previous_product"))
    if previous is not None:
        patient["previous_product"] = (previous.get("valueCoding") or {}).get("code")
    return patient


INACTIVE = {"inactive", "remission", "resolved", "refuted", "entered-in-error"}


def _current(condition: Mapping[str, Any]) -> bool:
    """A condition the patient has now: not resolved, in remission, refuted or an error."""
    for key in ("clinicalStatus", "verificationStatus"):
        for coding in (condition.get(key) or {}).get("coding") or []:
            if coding.get("code") in INACTIVE:
                return False
    return True


def _extra_request(r: _Reader, request: Mapping[str, Any], order: Json) -> None:
    role = _role(r, request)
    dosage = (request.get("dosageInstruction") or [{}])[0]
    dose_q = next(
        (d.get("doseQuantity") for d in dosage.get("doseAndRate") or [] if d.get("doseQuantity")),
        None,
    )
    name = (request.get("medicationCodeableConcept") or {}).get("text")
    if role == "saline":
        amount = r.quantity_text(dose_q, "saline.doseQuantity", "a volume such as 10 mL/kg")
        saline: Json = {"amount": amount}
        if dosage.get("text"):
            saline["timing"] = dosage["text"]
        order["saline"] = saline
        return
    premed: Json = {"name": name}
    if dose_q is not None:
        premed["dose"] = r.quantity_text(
            dose_q, "premedication.doseQuantity", "a dose such as 15 mg/kg"
        )
    minutes = _extension(request, r.t.extension("minutes_before"))
    if minutes is not None:
        premed["minutes_before"] = minutes.get("valueInteger")
    before_step = _extension(request, r.t.extension("repeat_before_step"))
    if before_step is not None:
        premed["repeat_before_step"] = before_step.get("valueInteger")
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    if repeat.get("period") is not None:
        unit = r.t.ucum_to_order_unit.get(str(repeat.get("periodUnit")))
        if unit is None or str(repeat.get("frequency", 1)) not in ("1", "1.0"):
            r.add(
                "premedication.timing.repeat",
                repeat,
                "once every <period> <min|h>",
                "this repeat cannot be mapped",
            )
        else:
            premed["repeat_every"] = f"{_plain(repeat['period'])} {unit}"
    notes = [n.get("text") for n in request.get("note") or [] if n.get("text")]
    if notes:
        premed["note"] = "\n".join(notes)
    order.setdefault("premedication", []).append(premed)
