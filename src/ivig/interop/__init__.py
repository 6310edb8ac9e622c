"""Interoperability: HL7 FHIR R4 (fhir.resources R4B models) and CDS Hooks.

Pure mapping, no Django, no network: the JSON API, the CDS Hooks views and the CLI call it.
Adapters translate; they never compute a clinical number (rates in mL/h come from the plan).
"""
