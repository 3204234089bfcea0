"""Pure domain rules (NIK/KK, names, dates, region codes), free of Dagster.

Every Series function is vectorised or works once per unique value, because staging runs
them on millions of rows a night. The rule numbers (NIK-01, NAME-04, ...) are documented in
docs/rules.md; each module carries the constants it needs and reads no files
outside the installed packages at run time.
"""
