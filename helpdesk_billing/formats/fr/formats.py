"""French, as in Brussels: 02/12/2026 (as a French browser's date inputs show it), 1 234,50."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\u202f"  # a narrow no-break space, as Babel writes amounts in French
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1
