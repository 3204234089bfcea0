-- One row per resolved person (golden.person), with the record each surviving value came from.
-- Survivorship, per field: the first record that has a value, in this order: civil registry,
-- DTSEN, pekon data, programme lists (source_priority); then the more recent record (a later
-- programme list); then the more complete record; then the smallest record id. Exceptions:
-- no_kk (intermediate.person_kk: an established No. KK first), kode_desa (a village inside the
-- deployment's scope first), desil (DTSEN records only). The <field>_source columns name the
-- record (feed:file#row) each value came from. birth_year and dob_precision come from the record
-- with the most precise birth date (day, then month, then year), so a person known by a year-only
-- record keeps that year; where a full date survives they come from the same record as tgl_lahir.
-- Life status (status_keberadaan): a verification decision about the person is above all (the
-- one in force: higher tier, then later date): MENINGGAL -> MATI, PINDAH -> PINDAH,
-- TIDAK_DITEMUKAN -> HILANG, LAYAK / TIDAK_LAYAK / USULAN_BARU -> HIDUP (assessed in person);
-- else any source reporting death (civil registry or pekon MATI), then pekon PINDAH, then
-- pekon HILANG; else HIDUP.
-- Flags (reasons and evidence in build.flag): duplicate records in one feed; more than one
-- established No. KK; dead recipient of a current programme list; moved recipient (a
-- verification decision PINDAH, or the sources place the recipient elsewhere than the list:
-- intermediate.person_move); living, in the civil registry or pekon data, not in DTSEN, while the
-- family is (or there is no No. KK).
with ranked as (
    select r.person_id, r.record_id, r.nik, r.nama, r.tgl_lahir, r.dob_imprecise, r.birth_year, r.dob_precision,
           r.jenis_kelamin, r.hubungan, r.kode_desa, r.kode_kecamatan, r.in_scope, r.desil,
           row_number() over (
               partition by person_id order by source_priority, recency desc, completeness desc, record_id
           ) as pref,
           case dob_precision when 'day' then 0 when 'month' then 1 when 'year' then 2 else 3 end as precision_rank
    from intermediate.person_record as r
),
-- Each field's surviving record, by its rank `pref`: the first with a value (pref 1 when none has
-- one). One aggregation, not a window sort per field (eight sorts of every record took most of
-- this model's time at 640,000 persons).
winner as (
    select person_id,
           coalesce(min(case when nik is not null then pref end), 1) as nik_pref,
           coalesce(min(case when nama is not null then pref end), 1) as nama_pref,
           coalesce(min(case when tgl_lahir is not null then pref end), 1) as tgl_lahir_pref,
           -- the most precise birth date first, then pref: the smallest (precision, pref) pair, less its precision
           min(cast(precision_rank as bigint) * 1000000000 + pref)
               - min(cast(precision_rank as bigint)) * 1000000000 as birth_year_pref,
           coalesce(min(case when jenis_kelamin is not null then pref end), 1) as jenis_kelamin_pref,
           coalesce(min(case when hubungan is not null then pref end), 1) as hubungan_pref,
           coalesce(min(case when kode_desa is not null and coalesce(in_scope, false) then pref end),
                    min(case when kode_desa is not null then pref end), 1) as kode_desa_pref,
           coalesce(min(case when desil is not null then pref end), 1) as desil_pref
    from ranked
    group by person_id
),
survived as (
    select r.person_id,
           max(case when r.pref = w.nik_pref then r.nik end) as nik,
           max(case when r.pref = w.nik_pref then r.record_id end) as nik_source,
           max(case when r.pref = w.nama_pref then r.nama end) as nama,
           max(case when r.pref = w.nama_pref then r.record_id end) as nama_source,
           max(case when r.pref = w.tgl_lahir_pref then r.tgl_lahir end) as tgl_lahir,
           bool_or(case when r.pref = w.tgl_lahir_pref then r.dob_imprecise end) as dob_imprecise,
           max(case when r.pref = w.tgl_lahir_pref then r.record_id end) as tgl_lahir_source,
           max(case when r.pref = w.birth_year_pref then r.birth_year end) as birth_year,
           max(case when r.pref = w.birth_year_pref then r.dob_precision end) as dob_precision,
           max(case when r.pref = w.birth_year_pref and r.birth_year is not null then r.record_id end)
               as birth_year_source,
           max(case when r.pref = w.jenis_kelamin_pref then r.jenis_kelamin end) as jenis_kelamin,
           max(case when r.pref = w.jenis_kelamin_pref then r.record_id end) as jenis_kelamin_source,
           max(case when r.pref = w.hubungan_pref then r.hubungan end) as hubungan,
           max(case when r.pref = w.hubungan_pref then r.record_id end) as hubungan_source,
           max(case when r.pref = w.kode_desa_pref then r.kode_desa end) as kode_desa,
           max(case when r.pref = w.kode_desa_pref then r.kode_kecamatan end) as kode_kecamatan,
           max(case when r.pref = w.kode_desa_pref then r.record_id end) as kode_desa_source,
           max(case when r.pref = w.desil_pref then r.desil end) as desil,
           max(case when r.pref = w.desil_pref and r.desil is not null then r.record_id end) as desil_source
    from ranked as r
    join winner as w on w.person_id = r.person_id
    group by r.person_id
),
facts as (
    select person_id,
           count(*) as source_records,
           count(distinct feed) as source_feeds,
           sum(case when feed = 'dtsen' then 1 else 0 end) as dtsen_records,
           sum(case when feed = 'dukcapil' then 1 else 0 end) as dukcapil_records,
           sum(case when feed = 'pekon' then 1 else 0 end) as pekon_records,
           sum(case when feed = 'bansos' then 1 else 0 end) as bansos_records,
           count(distinct case when kk_established then no_kk end) as established_kk,
           bool_or(reported_dead) as reported_dead,
           bool_or(reported_moved) as reported_moved,
           bool_or(reported_missing) as reported_missing,
           min(case when reported_dead then record_id end) as dead_record,
           min(case when reported_moved then record_id end) as moved_record,
           min(case when reported_missing then record_id end) as missing_record,
           bool_or(is_current_list) as is_recipient,
           bool_or(is_current_list and program = 'PKH') as receives_pkh,
           bool_or(is_current_list and program = 'BPNT') as receives_bpnt,
           bool_or(is_current_list and program = 'PBI-JK') as receives_pbi_jk
    from intermediate.person_record
    group by person_id
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
decision as (
    select person_id, decision_record, hasil, tingkat, tanggal,
           row_number() over (
               partition by person_id order by tier_rank desc, tanggal desc, source_file desc, source_row desc
           ) as decision_rank
    from intermediate.person_decision
),
status_decision as (
    select person_id, decision_record, hasil,
           row_number() over (
               partition by person_id order by tier_rank desc, tanggal desc, source_file desc, source_row desc
           ) as decision_rank
    from intermediate.person_decision
    where hasil in ('MENINGGAL', 'PINDAH', 'TIDAK_DITEMUKAN', 'LAYAK', 'TIDAK_LAYAK', 'USULAN_BARU')
),
verval_report as (
    select person_id,
           bool_or(hasil = 'MENINGGAL') as verval_dead,
           bool_or(hasil = 'PINDAH') as verval_moved
    from intermediate.person_decision
    group by person_id
),
person as (
    select s.person_id,
           h.household_id,
           s.nik,
           s.nik_source,
           k.no_kk,
           k.no_kk_source,
           s.nama,
           s.nama_source,
           s.nama_source as identity_source_record,
           s.tgl_lahir,
           s.dob_imprecise,
           s.tgl_lahir_source,
           s.birth_year,
           s.dob_precision,
           s.birth_year_source,
           s.jenis_kelamin,
           s.jenis_kelamin_source,
           s.hubungan,
           s.hubungan_source,
           s.kode_desa,
           s.kode_kecamatan,
           s.kode_desa_source,
           f.source_records,
           f.source_feeds,
           f.dtsen_records > 0 as in_dtsen,
           f.dukcapil_records > 0 as in_dukcapil,
           f.pekon_records > 0 as in_pekon,
           f.is_recipient,
           f.receives_pkh,
           f.receives_bpnt,
           f.receives_pbi_jk,
           s.desil,
           s.desil_source,
           case
               when sd.hasil = 'MENINGGAL' then 'MATI'
               when sd.hasil = 'PINDAH' then 'PINDAH'
               when sd.hasil = 'TIDAK_DITEMUKAN' then 'HILANG'
               when sd.hasil is not null then 'HIDUP'
               when f.reported_dead then 'MATI'
               when f.reported_moved then 'PINDAH'
               when f.reported_missing then 'HILANG'
               else 'HIDUP'
           end as status_keberadaan,
           case
               when sd.hasil is not null then sd.decision_record
               when f.reported_dead then f.dead_record
               when f.reported_moved then f.moved_record
               when f.reported_missing then f.missing_record
           end as status_source,
           f.dtsen_records > 1 or f.dukcapil_records > 1 or f.pekon_records > 1 as flag_duplicate_records,
           f.established_kk > 1 as flag_multiple_kk,
           f.is_recipient and (f.reported_dead or coalesce(vr.verval_dead, false)) as flag_dead_recipient,
           f.is_recipient and (mv.person_id is not null or coalesce(vr.verval_moved, false)) as flag_moved_recipient,
           f.dtsen_records = 0 and (f.dukcapil_records > 0 or f.pekon_records > 0) as outside_dtsen,
           coalesce(q.quality_flags, '') as quality_flags,
           d.hasil as verval_hasil,
           d.tingkat as verval_tingkat,
           d.tanggal as verval_tanggal,
           d.decision_record as verval_record
    from survived as s
    join facts as f on f.person_id = s.person_id
    left join intermediate.person_kk as k on k.person_id = s.person_id
    left join identity.household_id as h on h.no_kk = k.no_kk
    left join decision as d on d.person_id = s.person_id and d.decision_rank = 1
    left join status_decision as sd on sd.person_id = s.person_id and sd.decision_rank = 1
    left join verval_report as vr on vr.person_id = s.person_id
    left join intermediate.person_move as mv on mv.person_id = s.person_id
    left join person_flag as q on q.person_id = s.person_id
),
family_registered as (
    select distinct household_id, true as in_dtsen from intermediate.family_registration
)
select p.person_id, p.household_id, p.nik, p.nik_source, p.no_kk, p.no_kk_source, p.nama, p.nama_source,
       p.identity_source_record, p.tgl_lahir, p.dob_imprecise, p.tgl_lahir_source, p.birth_year,
       p.dob_precision, p.birth_year_source, p.jenis_kelamin,
       p.jenis_kelamin_source, p.hubungan, p.hubungan_source, p.kode_desa, p.kode_kecamatan, p.kode_desa_source,
       p.source_records, p.source_feeds, p.in_dtsen, p.in_dukcapil, p.in_pekon, p.is_recipient, p.receives_pkh,
       p.receives_bpnt, p.receives_pbi_jk, p.desil, p.desil_source, p.status_keberadaan, p.status_source,
       p.status_keberadaan = 'MATI' as is_dead,
       p.status_keberadaan = 'PINDAH' as is_moved,
       p.flag_duplicate_records,
       p.flag_multiple_kk,
       p.flag_dead_recipient,
       p.flag_moved_recipient,
       p.outside_dtsen and p.status_keberadaan = 'HIDUP' and (p.household_id is null or coalesce(fr.in_dtsen, false))
           as flag_missing_from_dtsen,
       concat_ws(';',
           case when p.flag_duplicate_records then 'DUPLICATE_RECORDS' end,
           case when p.flag_multiple_kk then 'PERSON_IN_MULTIPLE_KK' end,
           case when p.flag_dead_recipient then 'DEAD_RECIPIENT' end,
           case when p.flag_moved_recipient then 'MOVED_RECIPIENT' end,
           case when p.outside_dtsen and p.status_keberadaan = 'HIDUP' and (p.household_id is null or coalesce(fr.in_dtsen, false))
                then 'PERSON_MISSING_FROM_DTSEN' end
       ) as flag_reasons,
       p.verval_hasil, p.verval_tingkat, p.verval_tanggal, p.verval_record,
       p.quality_flags
from person as p
left join family_registered as fr on fr.household_id = p.household_id
