-- Each person's surviving No. KK (the family they belong to), decided before the rest of the
-- person's fields because the household ids are assigned from it (identity.household_id).
-- Rule: a No. KK that is established (on the civil registry or on two or more records) first,
-- then source priority (civil registry, DTSEN, pekon, programme lists), recency, completeness,
-- and the smallest record id. no_kk_source is the record it came from.
select person_id, no_kk, no_kk_source
from (
    select person_id,
           no_kk,
           record_id as no_kk_source,
           row_number() over (
               partition by person_id
               order by kk_established desc, source_priority, recency desc, completeness desc, record_id
           ) as kk_rank
    from intermediate.person_record
    where no_kk is not null
) as ranked
where kk_rank = 1
