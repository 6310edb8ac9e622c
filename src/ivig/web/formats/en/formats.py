"""Number format for English pages (FORMAT_MODULE_PATH): the decimal point, no grouping."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 0
