-- Verification decisions concerning each family (No. KK): the decision's own No. KK, else the
-- No. KK of the family whose members hold the DTSEN registration named by its ID_KELUARGA.
with registration_kk as (
    select id_keluarga, no_kk
    from (
        select r.id_keluarga,
               k.no_kk,
               row_number() over (partition by r.id_keluarga order by count(*) desc, k.no_kk) as kk_rank
        from intermediate.person_record as r
        join intermediate.person_kk as k on k.person_id = r.person_id
        where r.feed = 'dtsen' and r.id_keluarga is not null
        group by r.id_keluarga, k.no_kk
    ) as counted
    where kk_rank = 1
)
select coalesce(d.no_kk, g.no_kk) as no_kk,
       d.decision_record,
       d.source_file,
       d.source_row,
       d.hasil,
       d.tingkat,
       d.tanggal,
       d.tier_rank,
       d.nik is null as family_level
from intermediate.verval_decision as d
left join registration_kk as g on g.id_keluarga = d.id_keluarga
where coalesce(d.no_kk, g.no_kk) is not null
