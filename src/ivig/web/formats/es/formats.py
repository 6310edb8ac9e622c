"""Number format for Spanish pages (FORMAT_MODULE_PATH; other formats come from Django's).

Design choice: numbers shown to people use the decimal point in Spanish too, as in Mexico, the
United States and much of Latin America, and as every form of this app accepts ("Use a point for
decimals") and the plan engine writes them. One way everywhere: pages, PDFs, e-mails and the
calendar never switch between 19.96 and 19,96. No thousands separator (doses are small numbers).
"""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = "\u202f"
NUMBER_GROUPING = 0
