"""The words an order document may use, with plain English and Spanish names.

Codes are stable identifiers stored in records and files; the plain words are shown to people.
"""

from __future__ import annotations

from collections.abc import Mapping

# Patient conditions the checks know about: code -> (English, Spanish).
CONDITIONS: Mapping[str, tuple[str, str]] = {
    "iga_deficiency": ("IgA deficiency", "Deficiencia de IgA"),
    "iga_deficiency_with_anti_iga": (
        "IgA deficiency with antibodies to IgA",
        "Deficiencia de IgA con anticuerpos contra la IgA",
    ),
    "diabetes": ("Diabetes", "Diabetes"),
    "renal_impairment": (
        "Kidney disease or reduced kidney function",
        "Enfermedad renal o función renal reducida",
    ),
    "heart_failure": ("Heart failure or weak heart", "Insuficiencia cardiaca"),
    "thrombosis_history": (
        "Past blood clot (vein or artery)",
        "Coágulo de sangre previo (vena o arteria)",
    ),
    "hypercoagulable_state": (
        "Condition that makes blood clot easily",
        "Trastorno que favorece los coágulos",
    ),
    "estrogen_use": ("Takes estrogen (e.g. the pill)", "Toma estrógenos (p. ej., anticonceptivos)"),
    "central_venous_catheter": (
        "Central line (indwelling vein catheter)",
        "Catéter venoso central",
    ),
    "immobilization": ("Bed-bound or immobile for a long time", "Inmovilización prolongada"),
    "hyperviscosity": ("Thick blood (hyperviscosity)", "Sangre espesa (hiperviscosidad)"),
    "cardiovascular_risk": (
        "Heart or blood-vessel risk factors",
        "Factores de riesgo cardiovascular",
    ),
    "volume_depletion": ("Dehydrated (volume depletion)", "Deshidratación (depleción de volumen)"),
    "sepsis": ("Sepsis (serious blood infection)", "Sepsis (infección grave)"),
    "paraproteinemia": ("Paraproteinemia", "Paraproteinemia"),
    "nephrotoxic_drugs": (
        "Takes medicines that can harm the kidneys",
        "Toma medicamentos que pueden dañar el riñón",
    ),
    "hereditary_fructose_intolerance": (
        "Hereditary fructose intolerance",
        "Intolerancia hereditaria a la fructosa",
    ),
    "hyperprolinemia": ("Hyperprolinemia", "Hiperprolinemia"),
    "corn_allergy": ("Corn allergy", "Alergia al maíz"),
    "migraine": ("Migraine", "Migraña"),
    "pregnancy": ("Pregnant", "Embarazo"),
    "immunodeficiency": ("Immune deficiency", "Inmunodeficiencia"),
    "anemia": ("Anemia", "Anemia"),
    "hypersensitivity_to_immune_globulin": (
        "Past severe allergic reaction to immune globulin",
        "Reacción alérgica grave previa a inmunoglobulina",
    ),
}

SEXES: Mapping[str, tuple[str, str]] = {
    "female": ("Female", "Femenino"),
    "male": ("Male", "Masculino"),
}

BLOOD_GROUPS: tuple[str, ...] = (
    "O+",
    "O-",
    "A+",
    "A-",
    "B+",
    "B-",
    "AB+",
    "AB-",
    "O",
    "A",
    "B",
    "AB",
    "unknown",
)

DOSING_WEIGHT_METHODS: Mapping[str, tuple[str, str]] = {
    "actual": ("Actual body weight", "Peso real"),
    "ideal": ("Ideal body weight (Devine)", "Peso ideal (Devine)"),
    "adjusted": (
        "Adjusted body weight (ideal + 0.4 × excess)",
        "Peso ajustado (ideal + 0,4 × exceso)",
    ),
}

VIAL_ROUNDING: Mapping[str, tuple[str, str]] = {
    "none": ("No rounding: the exact dose", "Sin redondeo: la dosis exacta"),
    "whole_vial": (
        "Round each day's dose to whole vials",
        "Redondear la dosis diaria a viales completos",
    ),
    "nearest_5_g": (
        "Round each day's dose to the nearest 5 g",
        "Redondear la dosis diaria a los 5 g más cercanos",
    ),
}
