-- Every staged person record in one shape, with its stable person_id: linkage's cluster of the
-- record, and the id that cluster kept or got (identity.person_id, carried between runs).
-- Survivorship inputs per record: source_priority (civil registry 1, DTSEN 2, pekon 3,
-- programme lists 4), recency (a programme list's period; other feeds deliver one snapshot),
-- completeness (filled identity fields), and for the No. KK whether it is established (on the
-- civil registry, or on two or more records: a No. KK typed once is more likely a typo).
-- is_current_list marks records of each programme's latest list (current recipients).
-- birth_year / dob_precision: a partial birth date (only year, or year and month) keeps its year.
with records as (
    select record_id, feed, source_file, source_row, nik, no_kk, nama, tgl_lahir, dob_imprecise,
           cast(birth_year as integer) as birth_year, dob_precision,
           jenis_kelamin, hubungan, kode_desa, kode_kecamatan, in_scope, flags,
           1 as source_priority,
           status_hidup = 'MATI' as reported_dead,
           false as reported_moved,
           false as reported_missing,
           cast(null as varchar) as id_keluarga,
           cast(null as integer) as desil,
           cast(null as varchar) as program,
           cast(null as varchar) as periode
    from staging.dukcapil
    union all
    select record_id, feed, source_file, source_row, nik, no_kk, nama, tgl_lahir, dob_imprecise,
           cast(birth_year as integer) as birth_year, dob_precision,
           jenis_kelamin, hubungan, kode_desa, kode_kecamatan, in_scope, flags,
           2, false, false, false, id_keluarga, cast(desil as integer), cast(null as varchar), cast(null as varchar)
    from staging.dtsen
    union all
    select record_id, feed, source_file, source_row, nik, no_kk, nama, tgl_lahir, dob_imprecise,
           cast(birth_year as integer) as birth_year, dob_precision,
           jenis_kelamin, hubungan, kode_desa, kode_kecamatan, in_scope, flags,
           3, status_dasar = 'MATI', status_dasar = 'PINDAH', status_dasar = 'HILANG',
           cast(null as varchar), cast(null as integer), cast(null as varchar), cast(null as varchar)
    from staging.pekon
    union all
    select record_id, feed, source_file, source_row, nik, no_kk, nama, tgl_lahir, dob_imprecise,
           cast(birth_year as integer) as birth_year, dob_precision,
           jenis_kelamin, hubungan, kode_desa, kode_kecamatan, in_scope, flags,
           4, false, false, false, cast(null as varchar), cast(null as integer), program, periode
    from staging.bansos
),
latest_list as (
    select program, max(periode) as periode from staging.bansos group by program
),
kk_support as (
    select no_kk, count(*) as records, bool_or(feed = 'dukcapil') as on_registry
    from records
    where no_kk is not null
    group by no_kk
)
select i.person_id,
       r.*,
       coalesce(r.periode, '') as recency,
       (case when r.nik is not null then 1 else 0 end) + (case when r.no_kk is not null then 1 else 0 end)
           + (case when r.tgl_lahir is not null then 1 else 0 end)
           + (case when r.jenis_kelamin is not null then 1 else 0 end)
           + (case when r.hubungan is not null then 1 else 0 end) as completeness,
       coalesce(k.on_registry or k.records >= 2, false) as kk_established,
       coalesce(r.feed = 'bansos' and r.periode = l.periode, false) as is_current_list
from records as r
join linkage.person_cluster as c on c.record_id = r.record_id
join identity.person_id as i on i.cluster_id = c.cluster_id
left join latest_list as l on l.program = r.program
left join kk_support as k on k.no_kk = r.no_kk
