-- The DTSEN records that register each family (household): records carrying the family's
-- No. KK (match_rank 0), else a member's DTSEN record whose No. KK is missing or belongs to no
-- family (match_rank 1). A member listed under another family's No. KK (the person is in two
-- families) does not register their own family. The first record (match rank, a desil first,
-- smallest record id) gives the family's desil and ID_KELUARGA.
with candidates as (
    select h.household_id, r.record_id, r.id_keluarga, r.desil, 0 as match_rank
    from intermediate.person_record as r
    join identity.household_id as h on h.no_kk = r.no_kk
    where r.feed = 'dtsen'
    union all
    select h.household_id, r.record_id, r.id_keluarga, r.desil, 1 as match_rank
    from intermediate.person_record as r
    join intermediate.person_kk as k on k.person_id = r.person_id
    join identity.household_id as h on h.no_kk = k.no_kk
    left join identity.household_id as other on other.no_kk = r.no_kk
    where r.feed = 'dtsen' and other.no_kk is null
)
select household_id, record_id, id_keluarga, desil, match_rank,
       row_number() over (partition by household_id order by match_rank, desil is null, record_id) as registration_rank
from candidates
