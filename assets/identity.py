"""identity/*: stable person and household ids across runs; golden_state/id_registry keeps them.

The identity steps sit inside the SQL chain (person ids before intermediate.person_record,
household ids once each person's No. KK survived). Their state becomes golden_state in the
publication's own transaction (`golden_tables`, assets/publish.py), so the ids move on exactly
when the golden tables carrying them are published, whatever is killed when.
"""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from assets.ingest import OWNERS, PERSON_FEEDS
from dtsen_pipeline.golden.churn import id_churn
from dtsen_pipeline.golden.id_state import household_identity, person_identity
from dtsen_pipeline.memory import release_freed_memory
from dtsen_pipeline.resources import PublicationSettings, WarehouseResource

PERSON_ID_KEY = AssetKey(["identity", "person_id"])
HOUSEHOLD_ID_KEY = AssetKey(["identity", "household_id"])
ID_CHANGE_KEY = AssetKey(["identity", "id_change"])


@asset(key=PERSON_ID_KEY, group_name="identity", kinds={"python"}, owners=OWNERS,
       deps=[AssetKey(["linkage", "person_cluster"]), *(AssetKey(["staging", f]) for f in PERSON_FEEDS)],
       description="A stable person_id for every linkage cluster: the id most of its previously known records "
       "(record id, else NIK digest) had; new ids are never reused (golden/identity.py).",
       check_specs=[AssetCheckSpec(
           "id_churn", asset=PERSON_ID_KEY, blocking=True,
           description="Stops publication when the run would merge, split or drop the ids of more than "
                       "DTSEN_MAX_ID_CHURN (default 5%) of the persons active before it (golden/churn.py).")])
def person_id(context: AssetExecutionContext, warehouse: WarehouseResource, publication: PublicationSettings):
    engine = warehouse.engine()
    release_freed_memory(engine)  # what linkage freed, before millions of keys are read (dtsen_pipeline.memory)
    stats = person_identity(engine, context.run_id, PERSON_FEEDS)
    context.log.info(f"person ids: {stats}")
    yield MaterializeResult(metadata={"dagster/table_name": "identity.person_id", "dagster/row_count": stats["groups"],
                                      **stats})
    churn = id_churn(stats, stats["previous_active"], publication.max_id_churn)
    if not churn.plausible:
        context.log.error(f"id churn: {churn.describe()}: publication stops; the last published tables stay")
    yield AssetCheckResult(check_name="id_churn", asset_key=PERSON_ID_KEY, passed=churn.plausible,
                           severity=AssetCheckSeverity.ERROR,
                           description=churn.describe(),
                           metadata={"share_changed": round(churn.share, 5), "changed": churn.changed,
                                     "previous_active": churn.previous_active, "threshold": churn.threshold})


@multi_asset(
    specs=[
        AssetSpec(HOUSEHOLD_ID_KEY, deps=[AssetKey(["intermediate", "person_record"]),
                                          AssetKey(["intermediate", "person_kk"])],
                  description="A stable household_id for every surviving No. KK (members' records and the card vote).",
                  kinds={"python"}, owners=OWNERS),
        AssetSpec(ID_CHANGE_KEY, deps=[HOUSEHOLD_ID_KEY, PERSON_ID_KEY],
                  description="Every id change so far: MERGE, SPLIT, REMOVED, RESTORED (published as golden.id_change).",
                  kinds={"python"}, owners=OWNERS),
    ],
    group_name="identity",
    can_subset=False,
)
def household_id(context: AssetExecutionContext, warehouse: WarehouseResource):
    engine = warehouse.engine()
    release_freed_memory(engine)
    stats = household_identity(engine, context.run_id, PERSON_FEEDS)
    context.log.info(f"household ids: {stats}")
    yield MaterializeResult(asset_key=HOUSEHOLD_ID_KEY, metadata={
        "dagster/table_name": "identity.household_id", "dagster/row_count": stats["groups"], **stats})
    yield MaterializeResult(asset_key=ID_CHANGE_KEY, metadata={"dagster/table_name": "identity.id_change"})


identity_assets = [person_id, household_id]
