"""The product catalogue: label facts as encoded, worked checks from the labels, and a loader
that refuses bad data with a message naming the product and the field."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

import ivig
from ivig.core import units
from ivig.core.catalogue import (
    QUALITIES,
    Catalogue,
    CatalogueError,
    Product,
    RateFact,
    load_catalogue,
    load_catalogue_from,
)

EXPECTED_PRODUCTS = {
    "privigen", "gammagard_liquid", "gammagard_sd", "gamunex_c", "gammaked", "octagam_5",
    "octagam_10", "flebogamma_5_dif", "flebogamma_10_dif", "bivigam", "panzyga", "gammaplex_5",
    "gammaplex_10", "asceniv", "alyglo", "yimmugo", "qivigy", "carimune_nf",
    "gammagard_liquid_erc",
}
CLASS_CODES = {"hypersensitivity_to_human_ig", "iga_deficiency_with_anti_iga"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _rate_facts(product: Product) -> Iterator[tuple[str, RateFact]]:
    """Every rate fact of a product, with a name for assertion messages."""
    if product.at_risk_max_rate is not None:
        yield f"{product.id}.at_risk_max_rate", product.at_risk_max_rate
    for label in product.indications:
        where = f"{product.id}.{label.indication}"
        for name, fact in (("initial_rate", label.initial_rate), ("max_rate", label.max_rate)):
            if fact is not None:
                yield f"{where}.{name}", fact
        if label.step is not None:
            if label.step.increment is not None:
                yield f"{where}.step.increment", label.step.increment
            for index, rung in enumerate(label.step.ladder):
                yield f"{where}.step.ladder[{index}]", rung


def _governing(catalogue: Catalogue, product_id: str, indication: str, which: str) -> Decimal:
    label = catalogue.product(product_id).indication(indication)
    assert label is not None
    fact = getattr(label, which)
    assert isinstance(fact, RateFact)
    return fact.governing_ml_kg_h


# ─── What is encoded ─────────────────────────────────────────────────────────────────────────


def test_every_product_of_the_reference_table_is_encoded(catalogue: Catalogue) -> None:
    assert set(catalogue.products) == EXPECTED_PRODUCTS


def test_printed_figures_agree_with_the_concentration_or_a_mismatch_is_recorded(
    catalogue: Catalogue,
) -> None:
    checked = 0
    for product in catalogue.products.values():
        for where, fact in _rate_facts(product):
            converted = []
            for printed in fact.printed:
                quantity = units.parse(printed.text, where, units.Kind.RATE)
                value = units.rate_to_ml_kg_h(quantity, product.concentration_mg_ml, None)
                assert value == printed.rate_ml_kg_h, where
                converted.append(value)
            if fact.primary is not None:  # the label's primary unit governs (issue 8)
                primary = [p.rate_ml_kg_h for p in fact.printed if p.text == fact.primary]
                assert fact.governing_ml_kg_h == primary[0], where
            else:
                assert fact.governing_ml_kg_h == min(converted), where
            if len(set(converted)) > 1:
                assert fact.mismatch, f"{where}: figures disagree without a recorded mismatch"
            else:
                assert fact.mismatch is None, f"{where}: mismatch recorded but figures agree"
            checked += 1
    assert checked > 50


def test_privigen_rate_caps_are_per_indication(catalogue: Catalogue) -> None:
    pi = catalogue.product("privigen").indication("pi")
    assert pi is not None and pi.max_rate is not None
    assert [p.text for p in pi.max_rate.printed] == ["8 mg/kg/min", "0.08 mL/kg/min"]
    assert pi.max_rate.governing_ml_kg_h == Decimal("4.8")
    assert _governing(catalogue, "privigen", "itp_chronic", "max_rate") == Decimal("2.4")
    assert _governing(catalogue, "privigen", "cidp", "max_rate") == Decimal("4.8")
    assert _governing(catalogue, "privigen", "pi", "initial_rate") == Decimal("0.3")


def test_gammagard_liquid_rounded_mg_figures_are_recorded_and_the_primary_unit_governs(
    catalogue: Catalogue,
) -> None:
    pi = catalogue.product("gammagard_liquid").indication("pi")
    assert pi is not None and pi.max_rate is not None and pi.initial_rate is not None
    assert [p.rate_ml_kg_h for p in pi.max_rate.printed] == [Decimal("5"), Decimal("4.8")]
    # The label's primary unit is mL/kg/hr (products.toml rate_units): 5 governs, not 4.8.
    assert pi.max_rate.governing_ml_kg_h == Decimal("5")
    assert pi.max_rate.primary == "5 mL/kg/hr"
    assert pi.max_rate.mismatch is not None and "8.33" in pi.max_rate.mismatch
    assert pi.initial_rate.governing_ml_kg_h == Decimal("0.5")
    assert pi.initial_rate.minutes == 30
    assert pi.step is not None and pi.step.interval_minutes_min == 30
    mmn = catalogue.product("gammagard_liquid").indication("mmn")
    assert mmn is not None and mmn.max_rate is not None
    assert mmn.max_rate.governing_ml_kg_h == Decimal("5.4") and mmn.max_rate.mismatch is None
    assert mmn.step is not None and mmn.step.interval_minutes_min is None


def test_octagam_label_unit_mismatches(catalogue: Catalogue) -> None:
    five = catalogue.product("octagam_5")
    pi = five.indication("pi")
    assert pi is not None and pi.max_rate is not None
    assert pi.max_rate.governing_ml_kg_h == Decimal("3.996")  # 3.33 mg/kg/min at 50 mg/mL
    assert pi.max_rate.mismatch is not None
    assert pi.step is None and "not in the label table" in pi.rates_note
    assert five.at_risk_max_rate is not None and five.at_risk_max_rate.strict
    assert five.at_risk_max_rate.governing_ml_kg_h == Decimal("3.96")

    ten = catalogue.product("octagam_10")
    assert ten.at_risk_max_rate is not None
    assert ten.at_risk_max_rate.governing_ml_kg_h == Decimal("1.8")  # printed 0.03 mL/kg/min
    assert ten.at_risk_max_rate.mismatch is not None
    assert _governing(catalogue, "octagam_10", "itp_chronic", "max_rate") == Decimal("7.2")
    assert _governing(catalogue, "octagam_10", "dermatomyositis", "max_rate") == Decimal("2.4")
    itp = ten.indication("itp_chronic")
    assert itp is not None and itp.step is not None
    assert [r.governing_ml_kg_h for r in itp.step.ladder] == [
        Decimal("1.2"), Decimal("2.4"), Decimal("4.8")
    ]


def test_bivigam_ramp(catalogue: Catalogue) -> None:
    pi = catalogue.product("bivigam").indication("pi")
    assert pi is not None and pi.initial_rate is not None and pi.step is not None
    assert pi.initial_rate.governing_ml_kg_h == Decimal("0.3") and pi.initial_rate.minutes == 10
    assert pi.step.interval_minutes_min == 20
    assert pi.step.increment is not None
    assert pi.step.increment.governing_ml_kg_h == Decimal("0.48")
    assert _governing(catalogue, "bivigam", "pi", "max_rate") == Decimal("3.6")


def test_panzyga_current_label(catalogue: Catalogue) -> None:
    assert _governing(catalogue, "panzyga", "pi", "max_rate") == Decimal("8.4")
    assert _governing(catalogue, "panzyga", "itp_chronic", "max_rate") == Decimal("4.8")
    assert _governing(catalogue, "panzyga", "cidp", "max_rate") == Decimal("7.2")
    pi = catalogue.product("panzyga").indication("pi")
    assert pi is not None and pi.step is not None and pi.step.interval_minutes_min == 15
    at_risk = catalogue.product("panzyga").at_risk_max_rate
    assert at_risk is not None
    assert at_risk.governing_ml_kg_h == Decimal("1.98") and at_risk.mismatch is None


def test_gamunex_c_cidp_starts_at_double_the_pi_rate(catalogue: Catalogue) -> None:
    assert _governing(catalogue, "gamunex_c", "pi", "initial_rate") == Decimal("0.6")
    assert _governing(catalogue, "gamunex_c", "cidp", "initial_rate") == Decimal("1.2")


def test_gammaplex_five_and_ten_percent(catalogue: Catalogue) -> None:
    five = catalogue.product("gammaplex_5").indication("pi")
    assert five is not None and five.initial_rate is not None and five.step is not None
    assert five.initial_rate.minutes == 15 and five.step.interval_minutes_min == 15
    assert _governing(catalogue, "gammaplex_5", "pi", "max_rate") == Decimal("4.8")
    assert _governing(catalogue, "gammaplex_5", "pi", "initial_rate") == Decimal("0.6")
    assert _governing(catalogue, "gammaplex_10", "pi", "initial_rate") == Decimal("0.3")
    assert _governing(catalogue, "gammaplex_10", "itp_chronic", "max_rate") == Decimal("4.8")


def test_flebogamma_5_maximum_rests_on_a_secondary_source(catalogue: Catalogue) -> None:
    pi = catalogue.product("flebogamma_5_dif").indication("pi")
    assert pi is not None and pi.max_rate is not None
    assert pi.max_rate.governing_ml_kg_h == Decimal("6")
    assert catalogue.provisional(pi.max_rate.source_ids)
    assert pi.step is None


def test_gammaked_at_risk_ceiling_is_strict(catalogue: Catalogue) -> None:
    at_risk = catalogue.product("gammaked").at_risk_max_rate
    assert at_risk is not None and at_risk.strict
    assert at_risk.governing_ml_kg_h == Decimal("4.8")


# ─── Unknown stays unknown ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "product_id",
    ["gammagard_sd", "gammaked", "alyglo", "qivigy", "gammagard_liquid_erc", "carimune_nf"],
)
def test_rates_not_found_are_unknown_with_a_reason(catalogue: Catalogue, product_id: str) -> None:
    product = catalogue.product(product_id)
    assert product.indications
    for label in product.indications:
        assert label.initial_rate is None and label.step is None and label.max_rate is None
        assert label.rates_note.strip()


def test_yimmugo_has_no_us_indication(catalogue: Catalogue) -> None:
    assert catalogue.product("yimmugo").indications == ()
    assert any("not found" in note for note in catalogue.product("yimmugo").notes)


def test_doses_not_found_are_empty_with_a_reason(catalogue: Catalogue) -> None:
    for product_id in ("gammaked", "alyglo", "qivigy", "gammagard_liquid_erc"):
        for label in catalogue.product(product_id).indications:
            assert label.regimens == () and label.dose_note.strip(), product_id
    assert "Gamunex-C" in catalogue.product("gammaked").indications[0].dose_note


def test_unknown_composition_is_none_not_false(catalogue: Catalogue) -> None:
    qivigy = catalogue.product("qivigy")
    for fact in (qivigy.sucrose, qivigy.maltose, qivigy.sorbitol, qivigy.glucose, qivigy.iga):
        assert fact.value is None and not fact.known and fact.note
    assert qivigy.iga_ug_ml is None
    assert not catalogue.product("flebogamma_10_dif").vial_sizes_g.known


def test_multi_concentration_products_have_no_single_concentration(catalogue: Catalogue) -> None:
    assert catalogue.product("gammagard_sd").concentration_mg_ml is None
    assert catalogue.product("gammagard_sd").concentrations_mg_ml.value == (
        Decimal("50"), Decimal("100")
    )
    assert catalogue.product("carimune_nf").concentration_mg_ml is None
    assert catalogue.product("privigen").concentration_mg_ml == Decimal("100")


# ─── Contraindications, excipients, ages ─────────────────────────────────────────────────────


def test_every_product_carries_the_class_contraindications(catalogue: Catalogue) -> None:
    for product in catalogue.products.values():
        assert {c.code for c in product.contraindications} >= CLASS_CODES, product.id
        for item in product.contraindications:
            if item.verified:
                assert not catalogue.provisional(item.source_ids), (product.id, item.code)


def test_sorbitol_products_and_fructose_intolerance(catalogue: Catalogue) -> None:
    for product_id in ("flebogamma_5_dif", "flebogamma_10_dif"):
        product = catalogue.product(product_id)
        assert product.sorbitol.value is True
        codes = {c.code: c for c in product.contraindications}
        assert codes["hereditary_fructose_intolerance"].verified is False
        assert codes["age_under_2_years_sorbitol"].verified is False
    gammaplex = catalogue.product("gammaplex_5")
    assert gammaplex.sorbitol.value is True
    assert catalogue.provisional(gammaplex.sorbitol.source_ids)
    hfi = [c for c in gammaplex.contraindications if c.code == "hereditary_fructose_intolerance"]
    assert len(hfi) == 1 and hfi[0].verified is False
    assert catalogue.product("gammaplex_10").sorbitol.value is False


def test_privigen_proline_and_hyperprolinemia(catalogue: Catalogue) -> None:
    privigen = catalogue.product("privigen")
    assert privigen.proline.value is True
    item = next(c for c in privigen.contraindications if c.code == "hyperprolinemia")
    assert item.verified and "not retrieved" in item.text


def test_octagam_maltose_and_corn_allergy_is_a_caution(catalogue: Catalogue) -> None:
    for product_id in ("octagam_5", "octagam_10"):
        product = catalogue.product(product_id)
        assert product.maltose.value is True
        assert "corn_allergy" in {c.code for c in product.cautions}
        assert "corn_allergy" not in {c.code for c in product.contraindications}
    five = next(c for c in catalogue.product("octagam_5").cautions if c.code == "corn_allergy")
    assert "not verified" in five.text


def test_carimune_is_discontinued_and_contains_sucrose(catalogue: Catalogue) -> None:
    carimune = catalogue.product("carimune_nf")
    assert carimune.marketed is False and carimune.sucrose.value is True
    assert carimune.form == "lyophilized"
    assert all(catalogue.provisional(label.source_ids) for label in carimune.indications)
    assert {catalogue.sources[s].quality for s in carimune.indications[0].source_ids} == {"weak"}


def test_age_limits(catalogue: Catalogue) -> None:
    def min_age(product_id: str, indication: str) -> Decimal | None:
        label = catalogue.product(product_id).indication(indication)
        assert label is not None
        return label.min_age_years

    assert min_age("privigen", "itp_chronic") == Decimal("15")
    assert min_age("gammagard_liquid", "pi") == Decimal("2")
    assert min_age("asceniv", "pi") == Decimal("12")
    assert min_age("alyglo", "pi") == Decimal("17")
    assert min_age("privigen", "pi") is None
    cidp = catalogue.product("privigen").indication("cidp")
    assert cidp is not None and cidp.adults_only


def test_iga_amounts(catalogue: Catalogue) -> None:
    assert catalogue.product("privigen").iga_ug_ml == Decimal("25")
    assert catalogue.product("gammagard_liquid").iga_ug_ml == Decimal("37")
    assert catalogue.product("yimmugo").iga_ug_ml == Decimal("500")
    assert catalogue.provisional(catalogue.product("yimmugo").iga.source_ids)


# ─── Doses ───────────────────────────────────────────────────────────────────────────────────


def test_label_courses_are_per_course(catalogue: Catalogue) -> None:
    itp = catalogue.product("privigen").indication("itp_chronic")
    assert itp is not None
    course = itp.regimens[0]
    assert (course.dose_g_per_kg_min, course.dose_g_per_kg_max) == (Decimal("2"), Decimal("2"))
    assert (course.days_min, course.days_max) == (2, 2)
    gamunex_itp = catalogue.product("gamunex_c").indication("itp")
    assert gamunex_itp is not None
    assert {(r.name, r.dose_g_per_kg_max, r.days_max) for r in gamunex_itp.regimens} == {
        ("two_day", Decimal("2"), 2), ("five_day", Decimal("2"), 5)
    }
    kawasaki = catalogue.product("gammagard_sd").indication("kawasaki")
    assert kawasaki is not None
    divided = next(r for r in kawasaki.regimens if r.name == "divided")
    assert divided.dose_g_per_kg_max == Decimal("1.6")
    assert all(catalogue.provisional(r.source_ids) for r in kawasaki.regimens)  # superseded


def test_usual_regimens(catalogue: Catalogue) -> None:
    kawasaki = catalogue.indications["kawasaki"].usual_regimens[0]
    assert kawasaki.dose_g_per_kg_max == Decimal("2") and kawasaki.days_max == 1
    assert (kawasaki.infusion_hours_min, kawasaki.infusion_hours_max) == (
        Decimal("10"), Decimal("12")
    )
    jdm = catalogue.indications["jdm"]
    assert jdm.max_course_g == Decimal("70")
    assert catalogue.provisional(jdm.max_course_source_ids)
    gbs = catalogue.indications["gbs"].usual_regimens[0]
    assert (gbs.dose_g_per_kg_min, gbs.days_min) == (Decimal("2"), 5)
    assert catalogue.provisional(gbs.source_ids)
    spasms = catalogue.indications["infantile_spasms"].usual_regimens[0]
    assert (spasms.dose_g_per_kg_min, spasms.dose_g_per_kg_max) == (Decimal("0.4"), Decimal("2"))
    assert (spasms.days_min, spasms.days_max) == (1, 5)
    assert {catalogue.sources[s].quality for s in spasms.source_ids} == {"seed"}
    mmn = catalogue.indications["mmn"].usual_regimens[0]
    assert mmn.days_min is None and mmn.note
    assert catalogue.indications["kawasaki"].name_es == "Enfermedad de Kawasaki"


def test_every_label_indication_is_in_the_vocabulary(catalogue: Catalogue) -> None:
    for product in catalogue.products.values():
        for label in product.indications:
            assert label.indication in catalogue.indications


# ─── Sources ─────────────────────────────────────────────────────────────────────────────────


def _all_source_ids(catalogue: Catalogue) -> set[str]:
    ids: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, tuple):
            for item in value:
                walk(item)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                field_value = getattr(value, name)
                if name.endswith("source_ids"):
                    ids.update(field_value)
                else:
                    walk(field_value)

    for product in catalogue.products.values():
        walk(product)
    for indication in catalogue.indications.values():
        walk(indication)
    return ids


def test_every_cited_source_exists_and_every_source_is_cited(catalogue: Catalogue) -> None:
    cited = _all_source_ids(catalogue)
    assert cited <= set(catalogue.sources)
    assert set(catalogue.sources) <= cited


def test_every_source_is_complete(catalogue: Catalogue) -> None:
    for source in catalogue.sources.values():
        assert source.document.strip() and source.revision.strip() and source.section.strip()
        assert source.quality in QUALITIES
        assert source.cite() == f"{source.document}, {source.revision}, {source.section}"
    assert catalogue.sources["hlh24"].provisional
    assert not catalogue.sources["privigen-us-label-prescriberpoint"].provisional
    assert catalogue.sources["gammagard-sd-old-label-druglib"].provisional  # superseded label


def test_secondary_references_are_marked_secondary(catalogue: Catalogue) -> None:
    markers = ("Harriet Lane", "Lexicomp", "MPR", "Texas", "Skyscape")
    for source in catalogue.sources.values():
        if any(marker in source.document for marker in markers):
            assert source.quality in {"secondary", "weak"}, source.id


def test_cite_joins_sources(catalogue: Catalogue) -> None:
    text = catalogue.cite(["hlh24", "lexicomp-dosage-forms"])
    assert text.count("; ") == 1 and text.startswith("The Harriet Lane Handbook")


def test_unknown_product_raises_key_error(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError, match="nonexistent"):
        catalogue.product("nonexistent")
    assert catalogue.product("privigen").indication("kawasaki") is None


# ─── Loading ─────────────────────────────────────────────────────────────────────────────────


def test_version_names_the_data_it_was_built_from() -> None:
    data = resources.files("ivig.data")
    digest = hashlib.sha256(
        data.joinpath("products.toml").read_bytes() + data.joinpath("indications.toml").read_bytes()
    ).hexdigest()[:12]
    catalogue = load_catalogue()
    assert catalogue.version.endswith("+" + digest)
    assert load_catalogue() is catalogue


def test_loads_from_a_zipped_package(tmp_path: Path) -> None:
    """The data files are package resources: the catalogue loads from a zip like a wheel."""
    package_root = Path(ivig.__file__).parent
    archive = tmp_path / "ivig.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in package_root.rglob("*"):
            if path.suffix in {".py", ".toml"} and "__pycache__" not in path.parts:
                zipped.write(path, Path("ivig") / path.relative_to(package_root))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import ivig.core.catalogue as c;"
        "assert c.__file__.startswith(sys.argv[1]), c.__file__;"
        "print(len(c.load_catalogue().products))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(archive)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(EXPECTED_PRODUCTS))


# ─── The loader refuses bad data ─────────────────────────────────────────────────────────────

SOURCES = """
catalogue_version = "test"

[sources.test-label]
document = "Test label"
revision = "2020-01-01"
section = "2 Dosage"
quality = "label"
"""

INDICATIONS = """
[indications.pi]
name_en = "Primary immunodeficiency"
name_es = "Inmunodeficiencia primaria"
sources = ["test-label"]
"""

PRODUCT_LINES = {
    "brand": 'brand = "Testgam"',
    "manufacturer": 'manufacturer = "Test"',
    "marketed": "marketed = true",
    "form": 'form = "liquid"',
    "concentrations": 'concentrations = { value = ["100 mg/mL"], sources = ["test-label"] }',
    "sucrose": 'sucrose = { value = false, sources = ["test-label"] }',
    "maltose": 'maltose = { value = false, sources = ["test-label"] }',
    "sorbitol": 'sorbitol = { value = false, sources = ["test-label"] }',
    "glucose": 'glucose = { value = false, sources = ["test-label"] }',
    "proline": 'proline = { unknown = true, note = "not read" }',
    "stabilizers": 'stabilizers = { value = "glycine", sources = ["test-label"] }',
    "sodium": 'sodium = { unknown = true, note = "not read" }',
    "osmolality": 'osmolality = { unknown = true, note = "not read" }',
    "ph": 'ph = { unknown = true, note = "not read" }',
    "iga": 'iga = { value = "≤25 µg/mL", amount = "25 µg/mL", sources = ["test-label"] }',
    "vial_sizes": 'vial_sizes = { value = ["5 g", "10 g"], sources = ["test-label"] }',
    "at_risk_max_rate": 'at_risk_max_rate = { unknown = true, note = "minimum practicable" }',
    "contraindications": "contraindications = []",
}

INDICATION_LINES = {
    "indication": 'indication = "pi"',
    "population": 'population = "PI"',
    "sources": 'sources = ["test-label"]',
    "initial_rate": 'initial_rate = { printed = ["0.5 mg/kg/min"], sources = ["test-label"] }',
    "step": 'step = { interval_text = "every 30 min", sources = ["test-label"] }',
    "max_rate": (
        'max_rate = { printed = ["8 mg/kg/min", "0.08 mL/kg/min"], sources = ["test-label"] }'
    ),
    "regimens": (
        'regimens = [{ name = "maintenance", dose = ["300 mg/kg", "600 mg/kg"], days = 1, '
        'interval = "every 3–4 weeks", sources = ["test-label"] }]'
    ),
}


def products_toml(
    product: dict[str, str | None] | None = None,
    indication: dict[str, str | None] | None = None,
    sources: str = SOURCES,
) -> str:
    """A one-product catalogue; a None value drops that line, a string replaces it."""
    product_lines = {**PRODUCT_LINES, **(product or {})}
    indication_lines = {**INDICATION_LINES, **(indication or {})}
    body = "\n".join(line for line in product_lines.values() if line is not None)
    label = "\n".join(line for line in indication_lines.values() if line is not None)
    return f"{sources}\n[products.testgam]\n{body}\n\n[[products.testgam.indications]]\n{label}\n"


def test_the_minimal_catalogue_loads() -> None:
    catalogue = load_catalogue_from(products_toml(), INDICATIONS)
    label = catalogue.product("testgam").indication("pi")
    assert label is not None and label.max_rate is not None
    assert label.max_rate.governing_ml_kg_h == Decimal("4.8")
    assert catalogue.version.startswith("test+")


@pytest.mark.parametrize(
    ("product", "indication", "expected"),
    [
        pytest.param(
            None, {"max_rate": 'max_rate = { printed = ["8"], sources = ["test-label"] }'},
            r"testgam.*max_rate\.printed\[0\].*unit is missing", id="unit-less rate",
        ),
        pytest.param(
            None, {"max_rate": 'max_rate = { printed = [8], sources = ["test-label"] }'},
            r"testgam.*max_rate.*without a unit", id="bare number rate",
        ),
        pytest.param(
            None, {"max_rate": 'max_rate = { printed = ["80 mL/h"], sources = ["test-label"] }'},
            r"testgam.*max_rate.*pump rate", id="pump rate",
        ),
        pytest.param(
            {"sucrose": 'sucrose = { value = false, sources = ["nowhere"] }'}, None,
            r"testgam\.sucrose\.sources: unknown source id 'nowhere'", id="unknown source id",
        ),
        pytest.param(
            {"sorbitol": None}, None,
            r"products\.testgam: missing fact 'sorbitol'", id="missing fact key",
        ),
        pytest.param(
            {"sodium": 'sodium = { value = "1 mmol/L" }'}, None,
            r"testgam\.sodium: missing 'sources'", id="fact without sources",
        ),
        pytest.param(
            {"sodium": 'sodium = { unknown = true }'}, None,
            r"testgam\.sodium: missing 'note'", id="unknown without a reason",
        ),
        pytest.param(
            {"vial_sizes": 'vial_sizes = { value = ["5"], sources = ["test-label"] }'}, None,
            r"testgam\.vial_sizes\.value\[0\].*unit is missing", id="unit-less vial size",
        ),
        pytest.param(
            {"iga": 'iga = { value = "≤25 µg/mL", sources = ["test-label"] }'}, None,
            r"testgam\.iga: missing 'amount'", id="iga without amount",
        ),
        pytest.param(
            None,
            {"max_rate": 'max_rate = { printed = ["8 mg/kg/min", "5 mL/kg/h"], '
                         'sources = ["test-label"] }'},
            r"testgam.*max_rate: the printed figures disagree \(8 mg/kg/min = 4\.8 mL/kg/h, "
            r"5 mL/kg/h = 5 mL/kg/h\)", id="disagreement without mismatch",
        ),
        pytest.param(
            None,
            {"max_rate": 'max_rate = { printed = ["8 mg/kg/min", "0.08 mL/kg/min"], '
                         'mismatch = "rounded", sources = ["test-label"] }'},
            r"testgam.*max_rate\.mismatch: recorded, but the printed figures agree",
            id="mismatch on agreeing figures",
        ),
        pytest.param(
            {"concentrations": 'concentrations = { value = ["50 mg/mL", "100 mg/mL"], '
                               'sources = ["test-label"] }'},
            None,
            r"testgam.*initial_rate\.printed\[0\].*no single known concentration",
            id="mg rate on a multi-concentration product",
        ),
        pytest.param(
            None, {"max_rate": None},
            r"testgam.*\(pi\): missing 'max_rate'", id="missing rate key",
        ),
        pytest.param(
            None, {"step": 'step = { unknown = true, note = "not found" }'},
            r"testgam.*\(pi\): a rate is unknown; say why in 'rates_note'",
            id="unknown rate without rates_note",
        ),
        pytest.param(
            None, {"initial_rate": 'initial_rate = { printed = ["10 mg/kg/min"], '
                                   'sources = ["test-label"] }'},
            r"testgam.*initial rate is above the maximum", id="initial above maximum",
        ),
        pytest.param(
            None, {"indication": 'indication = "made_up"'},
            r"testgam.*'made_up' is not in indications\.toml", id="unknown indication",
        ),
        pytest.param(
            None, {"regimens": "regimens = []"},
            r"testgam.*no regimen; say why in 'dose_note'", id="no dose without reason",
        ),
        pytest.param(
            None,
            {"regimens": 'regimens = [{ name = "course", dose = "1 g/kg/day", '
                         'interval = "once", sources = ["test-label"] }]'},
            r"testgam.*regimens\[0\]: 'days' is missing", id="daily dose without days",
        ),
        pytest.param(
            {"form": 'form = "powder"'}, None,
            r"testgam\.form: 'powder' is not one of", id="unknown form",
        ),
        pytest.param(
            {"brand": 'brand = "Testgam"\nsoruces = []'}, None,
            r"testgam: unknown key 'soruces'", id="typo in a key",
        ),
    ],
)
def test_the_loader_refuses_bad_product_data(
    product: dict[str, str | None] | None, indication: dict[str, str | None] | None, expected: str
) -> None:
    with pytest.raises(CatalogueError, match=expected):
        load_catalogue_from(products_toml(product, indication), INDICATIONS)


def test_the_loader_refuses_bad_sources() -> None:
    unused = SOURCES + '\n[sources.spare]\ndocument = "x"\nrevision = "y"\nsection = "z"\n' \
        'quality = "label"\n'
    with pytest.raises(CatalogueError, match="never cited: spare"):
        load_catalogue_from(products_toml(sources=unused), INDICATIONS)
    bad_quality = SOURCES.replace('quality = "label"', 'quality = "textbook"')
    with pytest.raises(CatalogueError, match=r"sources\.test-label\.quality: 'textbook'"):
        load_catalogue_from(products_toml(sources=bad_quality), INDICATIONS)
    no_section = SOURCES.replace('section = "2 Dosage"', 'section = " "')
    with pytest.raises(CatalogueError, match=r"sources\.test-label\.section: expected non-empty"):
        load_catalogue_from(products_toml(sources=no_section), INDICATIONS)
    twice = INDICATIONS + '\n[sources.test-label]\ndocument = "x"\nrevision = "y"\n' \
        'section = "z"\nquality = "label"\n'
    with pytest.raises(CatalogueError, match=r"sources\.test-label: defined twice"):
        load_catalogue_from(products_toml(), twice)


def test_the_loader_refuses_invalid_toml() -> None:
    with pytest.raises(CatalogueError, match=r"products\.toml: not valid TOML"):
        load_catalogue_from("catalogue_version = ", INDICATIONS)
