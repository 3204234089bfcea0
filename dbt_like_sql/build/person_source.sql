-- Every staged person record and the golden person it resolved to (golden.person_source):
-- the lineage from each golden row back to the agency file and row it came from.
select person_id, record_id, feed, source_file, source_row, source_priority
from intermediate.person_record
