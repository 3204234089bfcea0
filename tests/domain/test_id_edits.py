"""How two identifiers differ: the typing errors the guards and diagnostics tell apart."""

import math

import pytest

from dtsen_pipeline.domain.id_edits import id_edit, is_typo_apart

NIK = "1806014107850001"


@pytest.mark.parametrize(("other", "kind"), [
    (NIK, "equal"),
    ("1806014107850002", "one_digit"),
    ("1806014107580001", "transposed"),  # 85 -> 58
    ("8106014107850001", "transposed"),  # at the very start
    ("1806014107850010", "transposed"),  # at the very end
    ("1806014107850012", "other"),  # two substitutions
    ("1806014107508001", "other"),  # digits swapped but not adjacent
    ("180601410785001", "other"),  # a digit dropped: another length
])
def test_kinds_of_difference(other, kind):
    assert id_edit(NIK, other) == kind
    assert id_edit(other, NIK) == kind
    assert is_typo_apart(NIK, other) == (kind in ("one_digit", "transposed"))


@pytest.mark.parametrize("missing", [None, "", math.nan])
def test_a_missing_side_is_missing_not_a_difference(missing):
    assert id_edit(NIK, missing) == "missing"
    assert id_edit(missing, NIK) == "missing"
