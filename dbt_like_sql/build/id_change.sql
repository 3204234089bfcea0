-- Every id change ever recorded (golden.id_change), so a downstream join on an old id can be
-- repaired: MERGE (old_id retired into new_id), SPLIT (new_id came out of old_id, which lives
-- on), REMOVED (no record left; the id is dormant and comes back if its records do), RESTORED.
-- change_run_id is the run that made the change; units counts the records (and No. KK) involved.
select change_run_id, subject_type, kind, old_id, new_id, units, recorded_at
from identity.id_change
