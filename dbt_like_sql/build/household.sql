-- One row per resolved family (golden.household): the members sharing a surviving No. KK, under
-- the stable household_id that family kept or got (identity.household_id).
-- Survivorship: the head is the member recorded as KEPALA_KELUARGA (living first, then the
-- oldest), and gives the village; desil and ID_KELUARGA come from the family's DTSEN
-- registration (intermediate.family_registration; desil_source names the record); programme
-- membership is a member on a programme's current list, or a current list record carrying
-- the family's No. KK.
-- Flags: inclusion-error candidate (on a programme above its desil ceiling from
-- reference.programme_rule); exclusion-error candidate (desil 1-2, a living member, no
-- programme); family missing from DTSEN (living members in the civil registry or pekon data,
-- no DTSEN registration); and member flags (any member flagged in build.person).
with resolved as (
    select distinct household_id from build.person where household_id is not null
),
dtsen_card as (
    select r.person_id, min(h.household_id) as household_id
    from intermediate.person_record as r
    join identity.household_id as h on h.no_kk = r.no_kk
    join resolved as v on v.household_id = h.household_id
    where r.feed = 'dtsen'
    group by r.person_id
),
moved_card as (
    -- the family a moved recipient's list entry belongs to: the list card's family, else the card
    -- DTSEN (slow to update, like the list) still lists them under; not the card the mover joined
    select m.person_id, coalesce(l.household_id, d.household_id) as household_id
    from intermediate.person_move as m
    left join identity.household_id as l
        on l.no_kk = m.list_no_kk and l.household_id in (select household_id from resolved)
    left join dtsen_card as d on d.person_id = m.person_id
    where coalesce(l.household_id, d.household_id) is not null
),
members as (
    select p.*, p.flag_moved_recipient and c.person_id is null as flag_moved_here
    from build.person as p
    left join moved_card as c on c.person_id = p.person_id
    where p.household_id is not null
),
head as (
    select household_id, person_id as head_person_id, nama as head_nama, kode_desa, kode_kecamatan,
           no_kk_source
    from (
        select household_id, person_id, nama, kode_desa, kode_kecamatan, no_kk_source,
               row_number() over (
                   partition by household_id
                   order by case when hubungan = 'KEPALA_KELUARGA' then 0 else 1 end,
                            case when status_keberadaan = 'HIDUP' then 0 else 1 end,
                            tgl_lahir nulls last, person_id
               ) as head_rank
        from members
    ) as ranked
    where head_rank = 1
),
registration as (
    select household_id, record_id as desil_source, id_keluarga, desil
    from intermediate.family_registration
    where registration_rank = 1
),
list_by_kk as (
    select h.household_id,
           bool_or(r.program = 'PKH') as pkh,
           bool_or(r.program = 'BPNT') as bpnt,
           bool_or(r.program = 'PBI-JK') as pbi_jk
    from intermediate.person_record as r
    join identity.household_id as h on h.no_kk = r.no_kk
    where r.is_current_list
    group by h.household_id
),
family as (
    select household_id,
           min(no_kk) as no_kk,
           count(*) as member_count,
           sum(case when status_keberadaan = 'HIDUP' then 1 else 0 end) as living_member_count,
           sum(case when status_keberadaan = 'HIDUP' and (in_dukcapil or in_pekon) then 1 else 0 end)
               as living_registered_members,
           bool_or(in_dukcapil) as any_in_dukcapil,
           bool_or(in_pekon) as any_in_pekon,
           bool_or(receives_pkh) as member_pkh,
           bool_or(receives_bpnt) as member_bpnt,
           bool_or(receives_pbi_jk) as member_pbi_jk,
           bool_or(flag_duplicate_records) as flag_duplicate_records,
           bool_or(flag_dead_recipient) as flag_dead_recipient,
           bool_or(flag_moved_here) as flag_moved_member,
           bool_or(flag_multiple_kk) as flag_member_in_multiple_kk,
           bool_or(flag_missing_from_dtsen) as flag_member_missing_from_dtsen
    from members
    group by household_id
),
rules as (
    select max(case when program = 'PKH' then max_desil end) as pkh_max,
           max(case when program = 'BPNT' then max_desil end) as bpnt_max,
           max(case when program = 'PBI-JK' then max_desil end) as pbi_max
    from reference.programme_rule
),
flagged as (
    select f.*,
           g.desil,
           g.desil_source,
           g.id_keluarga,
           g.household_id is not null as in_dtsen,
           f.member_pkh or coalesce(l.pkh, false) as pkh,
           f.member_bpnt or coalesce(l.bpnt, false) as bpnt,
           f.member_pbi_jk or coalesce(l.pbi_jk, false) as pbi_jk,
           (f.member_pkh or coalesce(l.pkh, false)) and g.desil > r.pkh_max as pkh_above,
           (f.member_bpnt or coalesce(l.bpnt, false)) and g.desil > r.bpnt_max as bpnt_above,
           (f.member_pbi_jk or coalesce(l.pbi_jk, false)) and g.desil > r.pbi_max as pbi_above
    from family as f
    cross join rules as r
    left join registration as g on g.household_id = f.household_id
    left join list_by_kk as l on l.household_id = f.household_id
),
household as (
    select f.*,
           f.flag_moved_member or f.household_id in (select household_id from moved_card) as flag_moved_recipient,
           coalesce(f.pkh_above or f.bpnt_above or f.pbi_above, false) as flag_inclusion_candidate,
           coalesce(f.desil in (1, 2), false) and f.living_member_count > 0
               and not (f.pkh or f.bpnt or f.pbi_jk) as flag_exclusion_candidate,
           not f.in_dtsen and f.living_registered_members > 0 as flag_missing_from_dtsen
    from flagged as f
)
select f.household_id,
       f.no_kk,
       h.no_kk_source,
       f.id_keluarga,
       h.kode_desa,
       h.kode_kecamatan,
       v.kecamatan_name as kecamatan,
       v.village_name as desa,
       h.head_person_id,
       h.head_nama,
       f.member_count,
       f.living_member_count,
       f.desil,
       f.desil_source,
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
       f.flag_member_missing_from_dtsen,
       concat_ws(';',
           case when f.flag_inclusion_candidate then 'INCLUSION_CANDIDATE' end,
           case when f.flag_exclusion_candidate then 'EXCLUSION_CANDIDATE' end,
           case when f.flag_missing_from_dtsen then 'FAMILY_MISSING_FROM_DTSEN' end,
           case when f.flag_duplicate_records then 'DUPLICATE_RECORDS' end,
           case when f.flag_member_in_multiple_kk then 'PERSON_IN_MULTIPLE_KK' end,
           case when f.flag_dead_recipient then 'DEAD_RECIPIENT' end,
           case when f.flag_moved_recipient then 'MOVED_RECIPIENT' end,
           case when f.flag_member_missing_from_dtsen then 'PERSON_MISSING_FROM_DTSEN' end
       ) as flag_reasons,
       d.hasil as verval_hasil,
       d.tingkat as verval_tingkat,
       d.tanggal as verval_tanggal,
       d.decision_record as verval_record
from household as f
join head as h on h.household_id = f.household_id
left join reference.village as v on v.kode_desa = h.kode_desa
left join (
    select no_kk, decision_record, hasil, tingkat, tanggal,
           row_number() over (
               partition by no_kk order by tier_rank desc, tanggal desc, source_file desc, source_row desc
           ) as decision_rank
    from intermediate.family_decision
) as d on d.no_kk = f.no_kk and d.decision_rank = 1
