-- Verification decisions concerning each person: a decision attaches to a person when its NIK,
-- or its NIK_GANDA (the other record of a GANDA / BUKAN_GANDA pair), is on one of the person's
-- records. The decision in force is chosen where it is used (tier, then date: see verval_decision).
with person_nik as (
    select distinct person_id, nik from intermediate.person_record where nik is not null
),
attached as (
    select p.person_id, d.* from intermediate.verval_decision as d join person_nik as p on p.nik = d.nik
    union
    select p.person_id, d.* from intermediate.verval_decision as d join person_nik as p on p.nik = d.nik_ganda
)
select person_id, decision_record, source_file, source_row, hasil, tingkat, tanggal, tier_rank
from attached
