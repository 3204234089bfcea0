"""Arrow tables into pandas frames, one way for the whole project.

Raw files are parsed into Arrow, and DuckDB hands its results over as Arrow. Taken straight into
pandas' Arrow-backed strings, no Python object is made per value (DuckDB's `.df()` makes one, and
pandas converts it back to Arrow: seconds per million rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"
_ARROW_STRINGS = {pa.string(): STR_DTYPE, pa.large_string(): STR_DTYPE}


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas, text as `STR_DTYPE`. Decimals become floats and every whole number
    64-bit, as `pd.read_sql` makes them, so a frame is typed the same whichever way it was read."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
        elif pa.types.is_integer(field.type) and field.type != pa.int64():
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table.to_pandas(types_mapper=_ARROW_STRINGS.get)
