-- One row per resolved person (golden.person).
-- Survivorship: each identity field comes from the highest-priority source that has it
-- (civil registry, then DTSEN, pekon data, programme lists; ties by record id), and
-- identity_source_record names the record the NIK/name/birth date came from.
-- Life status: dead if the civil registry or pekon says MATI or verval says MENINGGAL;
-- moved if the pekon data or verval says PINDAH.
with ordered as (
    select person_id, record_id, feed, nik, no_kk, nama, tgl_lahir, dob_imprecise, jenis_kelamin, hubungan,
           kode_desa, kode_kecamatan, source_priority,
           first_value(record_id) over w_identity as identity_source_record,
           first_value(nik) over (partition by person_id order by nik is null, source_priority, record_id) as s_nik,
           first_value(no_kk) over (partition by person_id order by no_kk is null, source_priority, record_id) as s_kk,
           first_value(nama) over w_identity as s_nama,
           first_value(tgl_lahir) over (partition by person_id order by tgl_lahir is null, source_priority, record_id) as s_dob,
           first_value(dob_imprecise) over (partition by person_id order by tgl_lahir is null, source_priority, record_id) as s_dob_imprecise,
           first_value(jenis_kelamin) over (partition by person_id order by jenis_kelamin is null, source_priority, record_id) as s_sex,
           first_value(hubungan) over (partition by person_id order by hubungan is null, source_priority, record_id) as s_hubungan,
           first_value(kode_desa) over (partition by person_id order by kode_desa is null, source_priority, record_id) as s_desa,
           first_value(kode_kecamatan) over (partition by person_id order by kode_desa is null, source_priority, record_id) as s_kec
    from intermediate.person_record
    window w_identity as (partition by person_id order by nama is null, source_priority, record_id)
),
survived as (
    select distinct person_id, identity_source_record, s_nik, s_kk, s_nama, s_dob, s_dob_imprecise, s_sex,
           s_hubungan, s_desa, s_kec
    from ordered
),
-- quality_flags (issue 4, quality suites): every row-level warning code of the person's source
-- records (staging `flags`), distinct and sorted, so W codes travel into the golden tables.
record_flag as (
    select distinct person_id, regexp_split_to_table(flags, ';') as code
    from intermediate.person_record
    where flags <> ''
),
person_flag as (
    select person_id, string_agg(code, ';' order by code) as quality_flags
    from record_flag
    where code <> ''
    group by person_id
),
facts as (
    select person_id,
           count(*) as source_records,
           count(distinct feed) as source_feeds,
           sum(case when feed = 'dtsen' then 1 else 0 end) as dtsen_records,
           sum(case when feed = 'dukcapil' then 1 else 0 end) as dukcapil_records,
           sum(case when feed = 'pekon' then 1 else 0 end) as pekon_records,
           sum(case when feed = 'bansos' then 1 else 0 end) as bansos_records,
           count(distinct no_kk) as kk_count,
           bool_or(reported_dead) as reported_dead,
           bool_or(reported_moved) as reported_moved,
           bool_or(feed = 'bansos' and program = 'PKH') as receives_pkh,
           bool_or(feed = 'bansos' and program = 'BPNT') as receives_bpnt,
           bool_or(feed = 'bansos' and program = 'PBI-JK') as receives_pbi_jk,
           max(desil) as desil
    from intermediate.person_record
    group by person_id
)
select s.person_id,
       s.s_nik as nik,
       s.s_kk as no_kk,
       s.s_nama as nama,
       s.s_dob as tgl_lahir,
       s.s_dob_imprecise as dob_imprecise,
       s.s_sex as jenis_kelamin,
       s.s_hubungan as hubungan,
       s.s_desa as kode_desa,
       s.s_kec as kode_kecamatan,
       s.identity_source_record,
       f.source_records,
       f.source_feeds,
       f.dtsen_records > 0 as in_dtsen,
       f.dukcapil_records > 0 as in_dukcapil,
       f.pekon_records > 0 as in_pekon,
       f.bansos_records > 0 as is_recipient,
       f.receives_pkh,
       f.receives_bpnt,
       f.receives_pbi_jk,
       f.desil,
       coalesce(f.reported_dead, false) or coalesce(v.hasil = 'MENINGGAL', false) as is_dead,
       coalesce(f.reported_moved, false) or coalesce(v.hasil = 'PINDAH', false) as is_moved,
       f.dtsen_records > 1 or f.dukcapil_records > 1 or f.pekon_records > 1 as flag_duplicate_records,
       f.kk_count > 1 as flag_multiple_kk,
       f.bansos_records > 0 and (coalesce(f.reported_dead, false) or coalesce(v.hasil = 'MENINGGAL', false))
           as flag_dead_recipient,
       f.bansos_records > 0 and (coalesce(f.reported_moved, false) or coalesce(v.hasil = 'PINDAH', false))
           as flag_moved_recipient,
       f.dtsen_records = 0 and (f.dukcapil_records > 0 or f.pekon_records > 0)
           and not (coalesce(f.reported_dead, false) or coalesce(f.reported_moved, false)) as flag_missing_from_dtsen,
       v.hasil as verval_hasil,
       v.tingkat as verval_tingkat,
       v.tanggal as verval_tanggal,
       coalesce(q.quality_flags, '') as quality_flags
from survived as s
join facts as f on f.person_id = s.person_id
left join intermediate.verval_person as v on v.nik = s.s_nik
left join person_flag as q on q.person_id = s.person_id
