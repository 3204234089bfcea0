"""Every probability the sample generator uses, in one place.

The rates are rough, realistic orders of magnitude for a rural regency (see the input
contract, docs/feeds.md, and docs/rules.md). Keeping them together makes the sample easy to
reason about in tests and lets the report quote them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Rates:
    """Rates of the true population, of coverage per feed and of record damage."""

    # --- population -------------------------------------------------------------------
    head_male: float = 0.88
    spouse_if_male_head: float = 0.92
    spouse_if_female_head: float = 0.08
    parent_in_household: float = 0.09
    other_member: float = 0.04
    grandchild_if_head_45: float = 0.12
    twins_if_two_children: float = 0.03
    nik_kec_other_tanggamus: float = 0.10  # NIK from another kecamatan of the regency (any regency)
    nik_kec_other_lampung: float = 0.04
    imprecise_dob_before_1975: float = 0.10
    nik_dob_differs: float = 0.003  # DOB corrected after the NIK was issued (NIK not reissued)
    no_desil: float = 0.03
    dead: float = 0.01
    moved_family: float = 0.003
    moved_person: float = 0.012
    missing_person: float = 0.001
    excluded_poor: float = 0.12  # desil 1-2 families left out of every programme

    # --- coverage per feed -----------------------------------------------------------
    dtsen_families: float = 0.93
    dtsen_lists_dead: float = 0.80
    dtsen_lists_moved: float = 0.75
    dtsen_missing_baby: float = 0.40
    dtsen_family_registered_twice: float = 0.012
    dtsen_person_in_second_family: float = 0.012
    dtsen_programme_flag_noise: float = 0.01
    dtsen_padan_noise: float = 0.005
    dukcapil_persons: float = 0.99
    dukcapil_drops_moved: float = 0.70
    dukcapil_records_death: float = 0.85
    pekon_villages: float = 0.60
    pekon_residents: float = 0.97
    pekon_cp1252_files: float = 0.75
    pekon_marks_dead: float = 0.80
    pekon_marks_moved: float = 0.80
    pekon_temp_nik: float = 0.03
    pekon_zero_nik: float = 0.003
    pekon_title_added: float = 0.04
    bansos_period_churn: float = 0.03
    verval_families: float = 0.015

    # --- record damage (per person record of dtsen, bansos, pekon, verval) ------------
    name_variant: float = 0.10
    dob_swap: float = 0.03
    dob_day_typo: float = 0.02
    dob_year_off: float = 0.01
    nik_typo: float = 0.02
    nik_missing_dtsen: float = 0.03
    kk_typo: float = 0.008
    kk_missing: float = 0.004
    sex_flip: float = 0.003
    out_of_scope_village: float = 0.002
    dukcapil_error: float = 0.005
    xlsx_id_as_number_min: float = 0.20
    xlsx_id_as_number_max: float = 0.45
    xlsx_id_scientific: float = 0.02
    csv_id_dot_zero: float = 0.015
    # Partial and odd birth dates (issue #10), for DTSEN; village systems write them twice as
    # often, the civil registry a tenth as often (feed builders apply the factor).
    dob_year_only: float = 0.008  # only the year known: 1985, 00-00-1985, --/--/1985, 1985-00-00
    dob_year_month: float = 0.004  # year and month: 1985-07-00, 00/07/1985, 07/1985
    dob_other_order: float = 0.004  # YYYY/MM/DD or YYYYMMDD (DTSEN); month first, MM/DD/YYYY (pekon)
    alamat_separator: float = 0.002  # an unquoted separator inside ALAMAT (CSV feeds)

    def scaled(self, factor: float) -> Rates:
        """These rates with every record-damage rate multiplied by `factor` (probabilities at most 1)."""
        if factor < 0:
            raise ValueError("damage scale must not be negative")
        return replace(self, **{name: min(1.0, getattr(self, name) * factor) for name in RECORD_DAMAGE})


# The "record damage" section above: what `Rates.scaled` (`--damage-scale`) multiplies.
_FIELDS = [f.name for f in fields(Rates)]
RECORD_DAMAGE: tuple[str, ...] = tuple(_FIELDS[_FIELDS.index("name_variant"):])

RATES = Rates()
