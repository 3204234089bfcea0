-- The verification decision in force for each person (NIK), same precedence as for families:
-- higher tier first, then the later decision.
select nik, hasil, tingkat, tanggal, nik_ganda, record_id as decision_record_id
from (
    select nik, hasil, tingkat, tanggal, nik_ganda, record_id,
           row_number() over (
               partition by nik
               order by case tingkat when 'KABUPATEN' then 3 when 'KECAMATAN' then 2 else 1 end desc,
                        tanggal desc, record_id desc
           ) as decision_rank
    from staging.verval
    where nik is not null
) as ranked
where decision_rank = 1
