-- Every staged person record and the golden person (and household) it resolved to
-- (golden.person_source): the lineage from each golden row back to the agency file and row.
select r.person_id, p.household_id, r.record_id, r.feed, r.source_file, r.source_row, r.source_priority
from intermediate.person_record as r
join build.person as p on p.person_id = r.person_id
