-- Recipients who no longer live where their programme list places them, found from what the
-- sources say rather than from a status column: one row per person on a current programme list
-- whose list record (village, No. KK) the most authoritative living source contradicts. Only a
-- list record with a village of the deployment's scope places anyone (a code outside it on the
-- kabupaten's own list is a coding error, OUT_OF_SCOPE, not a residence).
-- Sources, in order: the civil registry (a living record in one village that is not the list's:
-- DUKCAPIL_ELSEWHERE); without a civil-registry record, the village data (living records in one
-- other village and none in the list's: PEKON_ELSEWHERE); and the list village's own data saying
-- the person left (status PINDAH: PEKON_PINDAH). Not a move: the list's village renumbered or
-- split (a pair in reference.village_code_change), or a list whose village name (NAMA_DESA) is
-- the registry village's name in the same kecamatan (the code changed, the place did not).
-- move_level: KELUARGA when nobody on the list's No. KK is still placed in the list's village by
-- the civil registry or living village data (the family moved), else PERORANGAN (one member).
-- list_period and the source files date the evidence (the list's period; each extract's file).
with list_record as (
    select person_id, record_id, kode_desa, no_kk, nama_desa, program, periode
    from intermediate.person_record
    where is_current_list and kode_desa is not null and coalesce(in_scope, false)
),
registry as (
    select person_id, min(kode_desa) as kode_desa, min(record_id) as record_id,
           count(distinct kode_desa) as villages
    from intermediate.person_record
    where feed = 'dukcapil' and not reported_dead and kode_desa is not null
    group by person_id
),
village_living as (
    select person_id, min(kode_desa) as kode_desa, min(record_id) as record_id,
           count(distinct kode_desa) as villages
    from intermediate.person_record
    where feed = 'pekon' and not (reported_dead or reported_moved or reported_missing) and kode_desa is not null
    group by person_id
),
village_left as (
    select person_id, kode_desa, min(record_id) as record_id
    from intermediate.person_record
    where feed = 'pekon' and reported_moved and kode_desa is not null
    group by person_id, kode_desa
),
same_place as (
    select old_code as code_a, new_code as code_b from reference.village_code_change
    union all
    select new_code as code_a, old_code as code_b from reference.village_code_change
),
placed as (
    select l.person_id, l.record_id as list_record, l.kode_desa as old_kode_desa, l.no_kk as list_kk,
           l.nama_desa as list_nama_desa, l.program, l.periode,
           case when r.villages = 1 then r.kode_desa
                when r.person_id is null and v.villages = 1 then v.kode_desa end as new_kode_desa,
           case when r.villages = 1 then 'DUKCAPIL_ELSEWHERE'
                when r.person_id is null and v.villages = 1 then 'PEKON_ELSEWHERE' end as place_reason,
           case when r.villages = 1 then r.record_id
                when r.person_id is null and v.villages = 1 then v.record_id end as new_record,
           lf.record_id as left_record
    from list_record as l
    left join registry as r on r.person_id = l.person_id
    left join village_living as v on v.person_id = l.person_id
    left join village_left as lf on lf.person_id = l.person_id and lf.kode_desa = l.kode_desa
),
judged as (
    select p.*,
           p.new_kode_desa is not null and p.new_kode_desa <> p.old_kode_desa
               and sp.code_a is null
               and not (substr(p.new_kode_desa, 1, 8) = substr(p.old_kode_desa, 1, 8)
                        and nv.village_name is not null
                        and regexp_replace(upper(trim(coalesce(p.list_nama_desa, ''))),
                                           '^(PEKON|DESA|KELURAHAN|KEL\.) +', '') = upper(nv.village_name))
               as placed_elsewhere
    from placed as p
    left join same_place as sp on sp.code_a = p.old_kode_desa and sp.code_b = p.new_kode_desa
    left join reference.village as nv on nv.kode_desa = p.new_kode_desa
),
moved as (
    select j.*,
           concat_ws(';', case when j.placed_elsewhere then j.place_reason end,
                          case when j.left_record is not null then 'PEKON_PINDAH' end) as reason,
           row_number() over (partition by j.person_id order by j.placed_elsewhere desc, j.list_record) as list_rank
    from judged as j
    where j.placed_elsewhere or j.left_record is not null
),
still_there as (
    select distinct m.person_id
    from moved as m
    join intermediate.person_record as r
      on r.no_kk = m.list_kk and r.kode_desa = m.old_kode_desa and r.person_id <> m.person_id
    where r.feed in ('dukcapil', 'pekon') and not (r.reported_dead or r.reported_moved or r.reported_missing)
)
select m.person_id, m.reason, m.list_record, m.list_kk as list_no_kk, m.program, m.periode as list_period,
       m.old_kode_desa, case when m.placed_elsewhere then m.new_kode_desa end as new_kode_desa,
       case when m.placed_elsewhere then m.new_record end as new_record,
       m.left_record,
       case when s.person_id is null then 'KELUARGA' else 'PERORANGAN' end as move_level
from moved as m
left join still_there as s on s.person_id = m.person_id
where m.list_rank = 1
