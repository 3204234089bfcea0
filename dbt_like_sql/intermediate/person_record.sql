-- Every staged person record in one shape, with its stable person_id: linkage's cluster of the
-- record, and the id that cluster kept or got (identity.person_id, carried between runs).
-- Survivorship inputs per record: source_priority (civil registry 1, DTSEN 2, pekon 3,
-- programme lists 4), recency (a programme list's period; other feeds deliver one snapshot),
-- completeness (filled identity fields), and for the No. KK whether it is established (on the
-- civil registry, or on two or more records: a No. KK typed once is more likely a typo).
-- is_current_list marks records of each programme's latest list (current recipients).
-- birth_year / dob_precision: a partial birth date (only year, or year and month) keeps its year.
-- `records` (the person_records placeholder) is the union of every person feed's staging table,
-- generated from the feed registry (golden/sql_models.py, person_records_sql): priority and
-- reported deaths, moves and absences come from each feed YAML's `survivorship`.
with records as (
    {{ person_records }}
),
latest_list as (
    select program, max(periode) as periode from records where program is not null group by program
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
       coalesce(r.program is not null and r.periode = l.periode, false) as is_current_list
from records as r
join linkage.person_cluster as c on c.record_id = r.record_id
join identity.person_id as i on i.cluster_id = c.cluster_id
left join latest_list as l on l.program = r.program
left join kk_support as k on k.no_kk = r.no_kk
