-- Every staged verification decision with its tier rank (KABUPATEN 3 > KECAMATAN 2 > PEKON 1).
-- Precedence wherever a decision "in force" is chosen: higher tier first, then the later date,
-- then the later file and row (the verval feed is append-only, so nothing is ever overwritten).
select record_id as decision_record,
       source_file,
       source_row,
       nik,
       nik_ganda,
       no_kk,
       id_keluarga,
       hasil,
       tingkat,
       tanggal,
       case tingkat when 'KABUPATEN' then 3 when 'KECAMATAN' then 2 when 'PEKON' then 1 else 0 end as tier_rank
from staging.verval
