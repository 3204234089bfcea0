-- Every staged person record in one shape, with the person it resolved to.
-- source_priority orders the sources for survivorship of identity fields: the civil registry
-- (dukcapil) first, then DTSEN, the pekon data, and the programme lists last.
-- person_id is derived from the cluster's smallest record id (a provenance string, no personal data).
with records as (
    select record_id, feed, source_file, source_row, nik, no_kk, nama, nama_norm, gelar, tgl_lahir,
           dob_imprecise, jenis_kelamin, hubungan, kode_desa, kode_kecamatan, alamat, rt, rw, in_scope, flags,
           1 as source_priority,
           status_hidup = 'MATI' as reported_dead,
           false as reported_moved,
           cast(null as varchar) as id_keluarga,
           cast(null as integer) as desil,
           cast(null as boolean) as dtsen_pkh,
           cast(null as boolean) as dtsen_bpnt,
           cast(null as boolean) as dtsen_pbi_jk,
           cast(null as varchar) as program,
           cast(null as varchar) as periode
    from staging.dukcapil
    union all
    select record_id, feed, source_file, source_row, nik, no_kk, nama, nama_norm, gelar, tgl_lahir,
           dob_imprecise, jenis_kelamin, hubungan, kode_desa, kode_kecamatan, alamat, rt, rw, in_scope, flags,
           2, false, false, id_keluarga, cast(desil as integer), pkh, bpnt, pbi_jk,
           cast(null as varchar), cast(null as varchar)
    from staging.dtsen
    union all
    select record_id, feed, source_file, source_row, nik, no_kk, nama, nama_norm, gelar, tgl_lahir,
           dob_imprecise, jenis_kelamin, hubungan, kode_desa, kode_kecamatan, alamat, rt, rw, in_scope, flags,
           3, status_dasar = 'MATI', status_dasar = 'PINDAH', cast(null as varchar), cast(null as integer),
           cast(null as boolean), cast(null as boolean), cast(null as boolean),
           cast(null as varchar), cast(null as varchar)
    from staging.pekon
    union all
    select record_id, feed, source_file, source_row, nik, no_kk, nama, nama_norm, gelar, tgl_lahir,
           dob_imprecise, jenis_kelamin, hubungan, kode_desa, kode_kecamatan, alamat, rt, rw, in_scope, flags,
           4, false, false, cast(null as varchar), cast(null as integer),
           cast(null as boolean), cast(null as boolean), cast(null as boolean),
           program, periode
    from staging.bansos
)
select 'P' || substr(md5(min(c.record_id) over (partition by c.cluster_id)), 1, 12) as person_id,
       r.*
from records as r
join linkage.person_cluster as c on c.record_id = r.record_id
