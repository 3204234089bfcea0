-- One row per resolved family (golden.household), keyed by the surviving No. KK of its members.
-- The head is the member recorded as KEPALA_KELUARGA (else the oldest member). Desil is DTSEN's
-- family ranking. Programme membership comes from the recipient lists. Thresholds for the
-- inclusion-error flag come from reference.programme_rule (configurable per deployment).
with members as (
    select * from build.person where no_kk is not null
),
ranked as (
    select no_kk, person_id, nama, kode_desa, kode_kecamatan,
           row_number() over (
               partition by no_kk
               order by case when hubungan = 'KEPALA_KELUARGA' then 0 else 1 end,
                        case when is_dead then 1 else 0 end, tgl_lahir, person_id
           ) as head_rank
    from members
),
head as (
    select no_kk, person_id as head_person_id, nama as head_nama, kode_desa, kode_kecamatan
    from ranked where head_rank = 1
),
family as (
    select no_kk,
           min(person_id) as anchor_person_id,
           count(*) as member_count,
           sum(case when is_dead or is_moved then 0 else 1 end) as living_member_count,
           max(desil) as desil,
           bool_or(receives_pkh) as pkh,
           bool_or(receives_bpnt) as bpnt,
           bool_or(receives_pbi_jk) as pbi_jk,
           bool_or(in_dtsen) as in_dtsen,
           bool_or(flag_duplicate_records) as flag_duplicate_records,
           bool_or(flag_dead_recipient) as flag_dead_recipient,
           bool_or(flag_moved_recipient) as flag_moved_recipient,
           bool_or(flag_multiple_kk) as flag_member_in_multiple_kk,
           bool_or(flag_missing_from_dtsen) as any_member_missing_from_dtsen
    from members
    group by no_kk
),
rules as (
    select max(case when program = 'PKH' then max_desil end) as pkh_max,
           max(case when program = 'BPNT' then max_desil end) as bpnt_max,
           max(case when program = 'PBI-JK' then max_desil end) as pbi_max
    from reference.programme_rule
),
flagged as (
    select f.*,
           (f.pkh and f.desil > r.pkh_max) or (f.bpnt and f.desil > r.bpnt_max)
               or (f.pbi_jk and f.desil > r.pbi_max) as flag_inclusion_candidate,
           f.desil in (1, 2) and not (f.pkh or f.bpnt or f.pbi_jk) as flag_exclusion_candidate,
           not f.in_dtsen and f.living_member_count > 0 as flag_missing_from_dtsen
    from family as f
    cross join rules as r
)
select 'H' || substr(md5(f.anchor_person_id), 1, 12) as household_id,
       f.no_kk,
       h.kode_desa,
       h.kode_kecamatan,
       v.kecamatan_name as kecamatan,
       v.village_name as desa,
       h.head_person_id,
       h.head_nama,
       f.member_count,
       f.living_member_count,
       f.desil,
       f.pkh,
       f.bpnt,
       f.pbi_jk,
       f.in_dtsen,
       f.flag_duplicate_records,
       f.flag_dead_recipient,
       f.flag_moved_recipient,
       f.flag_inclusion_candidate,
       f.flag_exclusion_candidate,
       f.flag_missing_from_dtsen,
       f.flag_member_in_multiple_kk,
       concat_ws(';',
           case when f.flag_duplicate_records then 'DUPLICATE_RECORDS' end,
           case when f.flag_dead_recipient then 'DEAD_RECIPIENT' end,
           case when f.flag_moved_recipient then 'MOVED_RECIPIENT' end,
           case when f.flag_inclusion_candidate then 'INCLUSION_CANDIDATE' end,
           case when f.flag_exclusion_candidate then 'EXCLUSION_CANDIDATE' end,
           case when f.flag_missing_from_dtsen then 'MISSING_FROM_DTSEN' end,
           case when f.flag_member_in_multiple_kk then 'MEMBER_IN_MULTIPLE_KK' end
       ) as flag_reasons,
       d.hasil as verval_hasil,
       d.tingkat as verval_tingkat,
       d.tanggal as verval_tanggal
from flagged as f
join head as h on h.no_kk = f.no_kk
left join reference.village as v on v.kode_desa = h.kode_desa
left join intermediate.verval_family as d on d.no_kk = f.no_kk
