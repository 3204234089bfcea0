-- One row per raised flag (golden.flag): the subject (a person or a household), the flag, its
-- reason codes (';'-separated), non-personal evidence (which records, feeds, programme, desil,
-- ceiling: record ids are feed:file#row), and its verification status: the decision in force
-- among the decisions that answer this flag (reference.flag_rule), higher tier first
-- (KABUPATEN > KECAMATAN > PEKON), then the later date; UNVERIFIED when there is none.
-- kode_desa / kode_kecamatan place the flag for the worklists: the household's village for a
-- person who has one, else the person's; a moved recipient's flag sits in the village the list
-- places them in (its officer keeps the list), and kode_desa_lain names the village the sources
-- place them in now (its officer checks they live there), so both villages' worklists carry it.
with person_ev as (
    select r.person_id,
           sum(case when r.feed = 'dtsen' then 1 else 0 end) as dtsen_n,
           sum(case when r.feed = 'dukcapil' then 1 else 0 end) as dukcapil_n,
           sum(case when r.feed = 'pekon' then 1 else 0 end) as pekon_n,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.feed = 'dtsen') as dtsen_recs,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.feed = 'dukcapil') as dukcapil_recs,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.feed = 'pekon') as pekon_recs,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.is_current_list) as list_recs,
           string_agg(r.program, ',' order by r.program) filter (where r.is_current_list) as programmes,
           bool_or(r.feed = 'dukcapil' and r.reported_dead) as dukcapil_dead,
           bool_or(r.feed = 'pekon' and r.reported_dead) as pekon_dead,
           bool_or(r.feed = 'pekon' and r.reported_moved) as pekon_moved,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.reported_dead) as dead_recs,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.reported_moved) as moved_recs,
           string_agg(r.record_id, ',' order by r.record_id)
               filter (where r.kk_established and r.no_kk <> p.no_kk) as other_kk_recs
    from intermediate.person_record as r
    join build.person as p on p.person_id = r.person_id
    -- only the persons a person flag below is raised for: their records are the evidence
    where p.flag_duplicate_records or p.flag_multiple_kk or p.flag_dead_recipient or p.flag_moved_recipient
          or p.flag_missing_from_dtsen
    group by r.person_id
),
verval_ev as (
    select person_id,
           string_agg(decision_record, ',' order by decision_record) filter (where hasil = 'MENINGGAL') as dead_decisions,
           string_agg(decision_record, ',' order by decision_record) filter (where hasil = 'PINDAH') as moved_decisions
    from intermediate.person_decision
    group by person_id
),
place as (
    select p.person_id, p.household_id,
           coalesce(h.kode_desa, p.kode_desa) as kode_desa,
           coalesce(h.kode_kecamatan, p.kode_kecamatan) as kode_kecamatan
    from build.person as p
    left join build.household as h on h.household_id = p.household_id
),
person_flag as (
    select 'PERSON' as subject_type, p.person_id as subject_id, 'DUPLICATE_RECORDS' as flag,
           concat_ws(';', case when e.dtsen_n > 1 then 'DUPLICATE_IN_DTSEN' end,
                          case when e.dukcapil_n > 1 then 'DUPLICATE_IN_DUKCAPIL' end,
                          case when e.pekon_n > 1 then 'DUPLICATE_IN_PEKON' end) as reason,
           concat_ws('; ', case when e.dtsen_n > 1 then 'dtsen=' || e.dtsen_recs end,
                           case when e.dukcapil_n > 1 then 'dukcapil=' || e.dukcapil_recs end,
                           case when e.pekon_n > 1 then 'pekon=' || e.pekon_recs end) as evidence,
           cast(null as varchar) as at_desa, cast(null as varchar) as other_desa
    from build.person as p join person_ev as e on e.person_id = p.person_id
    where p.flag_duplicate_records
    union all
    select 'PERSON', p.person_id, 'PERSON_IN_MULTIPLE_KK', 'KK_CONFLICT',
           'kept=' || p.no_kk_source || '; other_kk=' || coalesce(e.other_kk_recs, ''), null, null
    from build.person as p join person_ev as e on e.person_id = p.person_id
    where p.flag_multiple_kk
    union all
    select 'PERSON', p.person_id, 'DEAD_RECIPIENT',
           concat_ws(';', case when v.dead_decisions is not null then 'VERVAL_MENINGGAL' end,
                          case when e.dukcapil_dead then 'DUKCAPIL_MATI' end,
                          case when e.pekon_dead then 'PEKON_MATI' end),
           concat_ws('; ', 'reported_by=' || concat_ws(',', v.dead_decisions, e.dead_recs),
                           'programmes=' || e.programmes, 'lists=' || e.list_recs), null, null
    from build.person as p
    join person_ev as e on e.person_id = p.person_id
    left join verval_ev as v on v.person_id = p.person_id
    where p.flag_dead_recipient
    union all
    select 'PERSON', p.person_id, 'MOVED_RECIPIENT',
           concat_ws(';', case when v.moved_decisions is not null then 'VERVAL_PINDAH' end, m.reason),
           concat_ws('; ', 'reported_by=' || nullif(concat_ws(',', v.moved_decisions, m.left_record), ''),
                           'moved=' || m.move_level,
                           'from=' || m.old_kode_desa || coalesce(' ' || ov.village_name, ''),
                           'to=' || m.new_kode_desa || coalesce(' ' || nv.village_name, ''),
                           'placed_by=' || m.new_record,
                           'list_period=' || m.list_period,
                           'programmes=' || e.programmes, 'lists=' || e.list_recs),
           m.old_kode_desa, m.new_kode_desa
    from build.person as p
    join person_ev as e on e.person_id = p.person_id
    left join verval_ev as v on v.person_id = p.person_id
    left join intermediate.person_move as m on m.person_id = p.person_id
    left join reference.village as ov on ov.kode_desa = m.old_kode_desa
    left join reference.village as nv on nv.kode_desa = m.new_kode_desa
    where p.flag_moved_recipient
    union all
    select 'PERSON', p.person_id, 'PERSON_MISSING_FROM_DTSEN',
           concat_ws(';', case when e.dukcapil_n > 0 then 'IN_DUKCAPIL_NOT_IN_DTSEN' end,
                          case when e.pekon_n > 0 then 'IN_PEKON_NOT_IN_DTSEN' end),
           'found_in=' || concat_ws(',', e.dukcapil_recs, e.pekon_recs), null, null
    from build.person as p join person_ev as e on e.person_id = p.person_id
    where p.flag_missing_from_dtsen
),
household_ev as (
    select p.household_id,
           string_agg(r.record_id, ',' order by r.record_id) filter (where r.is_current_list) as list_recs,
           string_agg(r.record_id, ',' order by r.record_id)
               filter (where r.feed in ('dukcapil', 'pekon') and p.status_keberadaan = 'HIDUP') as found_recs,
           bool_or(r.feed = 'dukcapil' and p.status_keberadaan = 'HIDUP') as living_in_dukcapil,
           bool_or(r.feed = 'pekon' and p.status_keberadaan = 'HIDUP') as living_in_pekon
    from intermediate.person_record as r
    join build.person as p on p.person_id = r.person_id
    -- only the households a household flag below takes evidence for
    join build.household as h on h.household_id = p.household_id
    where h.flag_inclusion_candidate or h.flag_missing_from_dtsen
    group by p.household_id
),
rules as (
    select max(case when program = 'PKH' then max_desil end) as pkh_max,
           max(case when program = 'BPNT' then max_desil end) as bpnt_max,
           max(case when program = 'PBI-JK' then max_desil end) as pbi_max
    from reference.programme_rule
),
household_flag as (
    select 'HOUSEHOLD' as subject_type, h.household_id as subject_id, 'INCLUSION_CANDIDATE' as flag,
           concat_ws(';', case when h.pkh and h.desil > r.pkh_max then 'PKH_ABOVE_CEILING' end,
                          case when h.bpnt and h.desil > r.bpnt_max then 'BPNT_ABOVE_CEILING' end,
                          case when h.pbi_jk and h.desil > r.pbi_max then 'PBI_JK_ABOVE_CEILING' end) as reason,
           concat_ws('; ', 'desil=' || cast(h.desil as varchar), 'desil_record=' || h.desil_source,
                     case when h.pkh and h.desil > r.pkh_max then 'PKH ceiling=' || cast(r.pkh_max as varchar) end,
                     case when h.bpnt and h.desil > r.bpnt_max then 'BPNT ceiling=' || cast(r.bpnt_max as varchar) end,
                     case when h.pbi_jk and h.desil > r.pbi_max then 'PBI-JK ceiling=' || cast(r.pbi_max as varchar) end,
                     'lists=' || e.list_recs) as evidence
    from build.household as h
    cross join rules as r
    left join household_ev as e on e.household_id = h.household_id
    where h.flag_inclusion_candidate
    union all
    select 'HOUSEHOLD', h.household_id, 'EXCLUSION_CANDIDATE', 'DESIL_1_2_NO_PROGRAMME',
           'desil=' || cast(h.desil as varchar) || '; desil_record=' || h.desil_source || '; programmes=none'
    from build.household as h
    where h.flag_exclusion_candidate
    union all
    select 'HOUSEHOLD', h.household_id, 'FAMILY_MISSING_FROM_DTSEN',
           concat_ws(';', case when e.living_in_dukcapil then 'IN_DUKCAPIL_NOT_IN_DTSEN' end,
                          case when e.living_in_pekon then 'IN_PEKON_NOT_IN_DTSEN' end),
           'living_members=' || cast(h.living_member_count as varchar) || '; found_in=' || coalesce(e.found_recs, '')
    from build.household as h
    left join household_ev as e on e.household_id = h.household_id
    where h.flag_missing_from_dtsen
),
person_status as (
    select f.subject_id, f.flag, d.decision_record, d.hasil, d.tingkat, d.tanggal, fr.outcome,
           row_number() over (
               partition by f.subject_id, f.flag
               order by d.tier_rank desc, d.tanggal desc, d.source_file desc, d.source_row desc
           ) as decision_rank
    from person_flag as f
    join intermediate.person_decision as d on d.person_id = f.subject_id
    join reference.flag_rule as fr on fr.flag = f.flag and fr.hasil = d.hasil
),
household_status as (
    select f.subject_id, f.flag, d.decision_record, d.hasil, d.tingkat, d.tanggal, fr.outcome,
           row_number() over (
               partition by f.subject_id, f.flag
               order by d.tier_rank desc, d.tanggal desc, d.source_file desc, d.source_row desc
           ) as decision_rank
    from household_flag as f
    join build.household as h on h.household_id = f.subject_id
    join intermediate.family_decision as d on d.no_kk = h.no_kk
    join reference.flag_rule as fr on fr.flag = f.flag and fr.hasil = d.hasil
)
select f.subject_type, f.subject_id, pl.household_id, f.flag, f.reason, f.evidence,
       coalesce(f.at_desa, pl.kode_desa) as kode_desa,
       coalesce(substr(f.at_desa, 1, 8), pl.kode_kecamatan) as kode_kecamatan,
       f.other_desa as kode_desa_lain,
       coalesce(s.outcome, 'UNVERIFIED') as verval_status,
       s.hasil as verval_hasil, s.tingkat as verval_tingkat, s.tanggal as verval_tanggal,
       s.decision_record as verval_record
from person_flag as f
join place as pl on pl.person_id = f.subject_id
left join person_status as s on s.subject_id = f.subject_id and s.flag = f.flag and s.decision_rank = 1
union all
select f.subject_type, f.subject_id, h.household_id, f.flag, f.reason, f.evidence,
       h.kode_desa, h.kode_kecamatan, cast(null as varchar),
       coalesce(s.outcome, 'UNVERIFIED'),
       s.hasil, s.tingkat, s.tanggal, s.decision_record
from household_flag as f
join build.household as h on h.household_id = f.subject_id
left join household_status as s on s.subject_id = f.subject_id and s.flag = f.flag and s.decision_rank = 1
