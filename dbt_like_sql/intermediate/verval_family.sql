-- The verification decision in force for each family (No. KK). A decision from a higher tier
-- (KABUPATEN > KECAMATAN > PEKON) overrides a lower one; within a tier the later one wins.
select no_kk, hasil, tingkat, tanggal, record_id as decision_record_id
from (
    select no_kk, hasil, tingkat, tanggal, record_id,
           row_number() over (
               partition by no_kk
               order by case tingkat when 'KABUPATEN' then 3 when 'KECAMATAN' then 2 else 1 end desc,
                        tanggal desc, record_id desc
           ) as decision_rank
    from staging.verval
    where no_kk is not null
) as ranked
where decision_rank = 1
