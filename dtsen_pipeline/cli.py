"""`dtsen run` runs nightly_refresh once, recorded in the Dagster instance; `dtsen summary` reports;
`dtsen accept FEED FILE` lets a delivery held as suspect replace the one in force; `dtsen settings`
prints the configuration table (every setting, from `dtsen_pipeline.resources`); `dtsen instance`
sets up the local Dagster instance both `make run` and `make ui` use; `dtsen serve-artifacts` serves
the artifacts folder read-only over HTTP (on the loopback by default) so the UI's links open.

`make run` calls `dtsen run`: it generates sample feeds when the landing folder is empty, so a
fresh clone shows the whole pipeline working without any agency data.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from dtsen_pipeline.config import PROJECT_ROOT, Settings
from dtsen_pipeline.regencies import ScopeError

DEFAULT_SAMPLE_PERSONS = 20_000
# Step-level DEBUG events still go to the instance (the UI shows them); the console gets INFO.
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
LOCAL_INSTANCE_YAML = PROJECT_ROOT / "deploy" / "local" / "dagster.yaml"


def write_instance_config(home: Path) -> Path:
    """A local Dagster instance folder (SQLite storage, no telemetry): `home`, made if missing, with
    the project's local instance configuration (`deploy/local/dagster.yaml`) unless it has its own."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(LOCAL_INSTANCE_YAML, config)
    return home


def ensure_dagster_home() -> Path:
    """The instance `dtsen run` records in and `make ui` shows: $DAGSTER_HOME, default `<project>/.dagster_home`."""
    home = write_instance_config(Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))))
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home


def landing_is_empty(landing: Path) -> bool:
    return not landing.exists() or not any(p.is_file() for p in landing.rglob("*") if "_truth" not in p.parts)


def settings_from_environment(regency: str | None = None) -> Settings:
    """The warehouse, folders and scope this environment sets (declared in `resources`); with
    `regency`, that kabupaten's own."""
    from dtsen_pipeline.resources import settings_from_environment as from_environment

    return from_environment(regency)


def chosen_regencies(kabupaten: str | None) -> list[str | None]:
    """The regencies a command works on: [None] for a one-regency deployment (its settings as they
    are); every kabupaten of the scope, or the one `--kabupaten` names, when it covers several."""
    from dtsen_pipeline.regencies import check_regency, scope_regencies

    scope = settings_from_environment().scope
    regencies = scope_regencies(scope)
    if kabupaten:
        check_regency(scope, kabupaten)
    if len(regencies) == 1:
        return [None]
    return [kabupaten] if kabupaten else list(regencies)


def run(persons: int, seed: int, kabupaten: str | None = None) -> int:
    """One nightly run; on a deployment of several regencies, one run per regency (partition) in
    turn, each on its own: a regency that fails does not stop the next. 1 if any run failed."""
    regencies = chosen_regencies(kabupaten)
    several = regencies != [None]
    if several and kabupaten is None and all(landing_is_empty(settings_from_environment(r).landing_dir)
                                             for r in regencies):
        generate_province_sample(regencies, persons, seed)
    # A regency generated on its own differs from the others (the first keeps `seed`, the next seed + 1).
    outcomes = {f"kabupaten {regency}": run_regency(persons, seed + offset, regency)
                for offset, regency in enumerate(regencies)}
    if several and kabupaten is None:  # the province step reads what each regency last published
        outcomes["provinsi"] = run_province_step()
    if several:
        print("\n".join(f"{what}: {'SUCCESS' if code == 0 else 'FAILURE'}" for what, code in outcomes.items()))
    return max(outcomes.values())


def generate_province_sample(regencies: list[str], persons: int, seed: int) -> None:
    """Every regency's sample at once, with the people who moved between them (sample.province)."""
    from dtsen_pipeline.sample.province import generate_province

    landing = settings_from_environment().landing_dir
    print(f"Landing folder {landing} is empty: generating sample feeds for {len(regencies)} kabupaten "
          f"({persons:,} persons each) and the movers between them.")
    generate_province(regencies, persons, seed, landing)


def run_province_step() -> int:
    """province_refresh once: the regencies' persons linked across regencies, movers published."""
    from dagster import DagsterInstance, execute_job, reconstructable

    job = reconstructable(_province_job)
    with DagsterInstance.get() as instance:
        result = execute_job(job, instance=instance, run_config=CONSOLE_INFO)
        print(f"Run {result.run_id} (provinsi): {'SUCCESS' if result.success else 'FAILURE'}")
    if result.success:
        with _unless_unreachable("no province summary"):
            print_province_summary()
    return 0 if result.success else 1


def print_province_summary() -> None:
    from dtsen_pipeline.regencies import province_warehouse_url, scope_regencies
    from dtsen_pipeline.warehouse import engine_for, read_sql, table_exists

    settings = settings_from_environment()
    engine = engine_for(province_warehouse_url(settings.warehouse_url, scope_regencies(settings.scope)))
    try:
        kinds = read_sql(engine, "SELECT kind, count(*) AS n FROM province.mover GROUP BY kind ORDER BY kind")
        print("province.mover: " + (", ".join(f"{r.kind} {r.n:,}" for r in kinds.itertuples()) or "none"))
        if table_exists(engine, "province", "evaluation"):
            scores = read_sql(engine, "SELECT metric, value FROM province.evaluation")
            print("movers against the sample's truth: " + ", ".join(
                f"{r.metric} {r.value:.4f}" if r.value <= 1 else f"{r.metric} {r.value:,.0f}"
                for r in scores.itertuples()))
    finally:
        engine.dispose()


def run_regency(persons: int, seed: int, regency: str | None) -> int:
    """nightly_refresh once, for `regency`'s partition when given."""
    settings = settings_from_environment(regency)
    if landing_is_empty(settings.landing_dir):
        from dtsen_pipeline.sample import generate

        print(f"Landing folder {settings.landing_dir} is empty: generating sample feeds for {settings.scope} "
              f"({persons:,} persons).")
        try:  # the scope's own villages, or every record would be out of scope
            generate(persons=persons, seed=seed, out_dir=settings.landing_dir, kabupaten=settings.scope)
        except ValueError as exc:
            print(f"error: no sample for DTSEN_SCOPE={settings.scope}: {exc}")
            return 2
        if regency and settings.truth_dir != settings.landing_dir / "_truth":  # a regency's truth folder
            shutil.rmtree(settings.truth_dir, ignore_errors=True)
            settings.truth_dir.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(settings.landing_dir / "_truth", settings.truth_dir)
    ensure_dagster_home()
    from dagster import DagsterInstance, execute_job, reconstructable

    from dtsen_pipeline.regencies import PARTITION_TAG

    job = reconstructable(_nightly_job)
    tags = {PARTITION_TAG: regency} if regency else None
    with DagsterInstance.get() as instance:
        result = execute_job(job, instance=instance, run_config=CONSOLE_INFO, tags=tags)
        print(f"Run {result.run_id}{f' (kabupaten {regency})' if regency else ''}: "
              f"{'SUCCESS' if result.success else 'FAILURE'} (recorded in {os.environ['DAGSTER_HOME']})")
        if not result.success:
            with _unless_unreachable("audit.run_failure not written (the daemon's sensor writes it later)"):
                audit_failure(settings, instance, result.run_id,
                              [e.step_key for e in result.get_step_failure_events() if e.step_key])
    with _unless_unreachable("no summary"):
        print_summary(settings, result.run_id)
    return 0 if result.success else 1


@contextlib.contextmanager
def _unless_unreachable(what: str) -> Iterator[None]:
    """After a failed run the warehouse may be what failed: say so, by the error's kind only, and
    go on to the next regency rather than stop with a traceback."""
    import sqlalchemy as sa

    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        print(f"{what}: the warehouse cannot be reached ({type(exc).__name__})")


def audit_failure(settings: Settings, instance, run_id: str, failed_steps: list[str]) -> None:
    """audit.run_failure for a failed `dtsen run` without waiting for the daemon's sensor, which
    writes the same row (by run id) if it runs; a killed run is left to the daemon's run monitoring."""
    from dtsen_pipeline.clock import utc_now
    from dtsen_pipeline.publish.audit import record_failed_run, run_info_of
    from dtsen_pipeline.warehouse import engine_for

    run = instance.get_run_by_id(run_id)
    info = run_info_of(run_id, run.job_name, run.tags, instance.get_run_stats(run_id).start_time)
    engine = engine_for(settings.warehouse_url)
    try:
        record_failed_run(engine, info, utc_now(), failed_steps)
    finally:
        engine.dispose()


def _nightly_job():
    from dtsen_pipeline.definitions import defs

    return defs.resolve_job_def("nightly_refresh")


def _province_job():
    from dtsen_pipeline.definitions import defs

    return defs.resolve_job_def("province_refresh")


def print_summary(settings: Settings, run_id: str | None = None) -> None:
    from dtsen_pipeline.summary import summary_lines
    from dtsen_pipeline.warehouse import engine_for

    print("\n".join(summary_lines(engine_for(settings.warehouse_url), settings.artifacts_dir, run_id)))


def accept(feed: str, file: str, kabupaten: str | None = None) -> int:
    """Record an operator's acceptance of the file's current content; the next run loads it."""
    import getpass

    from dtsen_pipeline.ingest.deliveries import content_id
    from dtsen_pipeline.ingest.feeds import load_feed_specs
    from dtsen_pipeline.ingest.raw_store import accept_delivery
    from dtsen_pipeline.warehouse import engine_for

    regencies = chosen_regencies(kabupaten)
    if len(regencies) > 1:
        print("error: DTSEN_SCOPE covers several kabupaten: say whose delivery with --kabupaten")
        return 2
    settings = settings_from_environment(regencies[0])
    if feed not in load_feed_specs():
        print(f"error: unknown feed {feed!r}")
        return 2
    relative = file if file.startswith(f"{feed}/") else f"{feed}/{file}"
    path = settings.landing_dir / relative
    if not path.is_file():
        print(f"error: no file {relative} in the landing folder {settings.landing_dir}")
        return 2
    accept_delivery(engine_for(settings.warehouse_url), feed, relative, content_id(path), getpass.getuser())
    print(f"accepted {relative} (this content only); the next run loads it and it replaces the delivery in force")
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve_artifacts(host: str | None, port: int | None) -> int:
    """Serve the artifacts folder until interrupted (`make ui` runs it beside `dagster dev`)."""
    from dtsen_pipeline.reports.artifact_server import make_server
    from dtsen_pipeline.resources import PipelineSettings, from_environment, resolved

    pipeline = resolved(from_environment(PipelineSettings))
    server = make_server(pipeline.artifacts, host or pipeline.artifacts_host,
                         pipeline.artifacts_port if port is None else port)
    bound_host, bound_port = server.server_address[:2]
    # `make ui` stops the server with SIGTERM. A process started from a background shell, or by
    # one that ran a Dagster job (which maps SIGTERM to SIGINT's disposition), may inherit SIGTERM
    # ignored; the server would then outlive the UI. Before the line below announces the server:
    # a caller that stops it as soon as it reads that line must find the handler in place.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"Serving {pipeline.artifacts} read-only at http://{bound_host}:{bound_port}/ "
              f"(metadata links use {pipeline.artifacts_url})", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def link_tables_command(records: str, model: str, out: str) -> int:
    """`dtsen link-tables`: the linkage on Spark with tables in and out (linkage.spark_tables), for
    records beyond one process; the cluster is DTSEN_LINKAGE_SPARK_MASTER's. Prints counts only."""
    import json

    from dtsen_pipeline.linkage.backend import SPARK, open_session
    from dtsen_pipeline.linkage.spark_input import is_staged_export, linkage_input_on_spark
    from dtsen_pipeline.linkage.spark_tables import DuplicateRecordIds, link_tables
    from dtsen_pipeline.resources import LinkageSettings, from_environment, resolved

    config = resolved(from_environment(LinkageSettings, backend=SPARK)).config()
    session = open_session(SPARK, config.memory_limit, config.spark)
    try:
        # A folder of regencies' folders is read whole; a staged export is built into records here.
        table = session.spark.read.option("recursiveFileLookup", "true").parquet(records)
        if is_staged_export(table.columns):
            table = linkage_input_on_spark(table)
        result = link_tables(session, table, json.loads(Path(model).read_text()), config, out)
    except DuplicateRecordIds as exc:
        print(f"error: {exc}")
        return 2
    finally:
        session.close()
    counts = result.counts
    print(f"{counts['records']:,} records, {counts['pairs']:,} pairs, {counts['clusters']:,} clusters "
          f"({counts['partitions']:,} partitions, the largest {counts['largest_partition']:,} records), "
          f"{sum(result.refused.values()):,} edge(s) refused; written to {out}", flush=True)
    return 0


def export_staged_command(out: str, kabupaten: str | None) -> int:
    """`dtsen export-staged`: the staged person records linkage reads, as parquet for
    `dtsen link-tables` (linkage.staged_export). Prints counts only."""
    from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
    from dtsen_pipeline.linkage.staged_export import export_staged
    from dtsen_pipeline.warehouse import engine_for

    regencies = chosen_regencies(kabupaten)
    if len(regencies) > 1:
        print("error: DTSEN_SCOPE covers several kabupaten: say whose records with --kabupaten (one folder each)")
        return 2
    settings = settings_from_environment(regencies[0])
    # Several regencies' exports are read as one table: their record ids carry the kabupaten.
    prefix = f"{regencies[0]}/" if regencies[0] else ""
    written = export_staged(engine_for(settings.warehouse_url), person_feeds(load_feed_specs()), Path(out), prefix)
    if not written:
        print("error: the warehouse has no staged person records yet (run the nightly job first)")
        return 1
    print(f"{sum(written.values()):,} staged person records written to {out}: "
          + ", ".join(f"{feed} {rows:,}" for feed, rows in written.items()), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dtsen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run nightly_refresh once (sample feeds if landing is empty)")
    run_parser.add_argument("--persons", type=int, default=DEFAULT_SAMPLE_PERSONS)
    run_parser.add_argument("--seed", type=int, default=1)
    run_parser.add_argument("--kabupaten", default=None, help="only this kabupaten's partition, when DTSEN_SCOPE "
                            "covers several (default: each in turn)")
    summary_parser = sub.add_parser("summary", help="print the summary of the warehouse's current tables")
    summary_parser.add_argument("--kabupaten", default=None, help="only this kabupaten's, when DTSEN_SCOPE covers "
                                "several")
    sub.add_parser("instance", help="set up the local Dagster instance ($DAGSTER_HOME) `dtsen run` records in "
                   "and print its folder (`make ui` runs it first)")
    serve_parser = sub.add_parser("serve-artifacts", help="serve the artifacts folder read-only over HTTP "
                                  "(DTSEN_ARTIFACTS_HOST / DTSEN_ARTIFACTS_PORT, loopback by default)")
    serve_parser.add_argument("--host", default=None)
    serve_parser.add_argument("--port", type=int, default=None)
    sub.add_parser("province", help="run province_refresh once: link the regencies' published persons across "
                   "regencies (DTSEN_SCOPE of several kabupaten)")
    sub.add_parser("settings", help="print every setting: variable, default, Launchpad field, meaning (Markdown)")
    tables_parser = sub.add_parser("link-tables", help="link records beyond one process on Spark (the cluster of "
                                   "DTSEN_LINKAGE_SPARK_MASTER): records and results as parquet tables")
    tables_parser.add_argument("records", help="parquet of linkage input records, or the staged records `dtsen "
                               "export-staged` wrote (a folder, or a folder of regencies' folders; path or URL)")
    tables_parser.add_argument("model", help="the promoted model's Splink JSON")
    tables_parser.add_argument("out", help="folder (or URL) for pairs/, clusters/ and refused_edges/")
    export_parser = sub.add_parser("export-staged", help="write the staged person records linkage reads as parquet "
                                   "(one file per feed) for `dtsen link-tables`")
    export_parser.add_argument("out", help="folder to write <feed>.parquet to")
    export_parser.add_argument("--kabupaten", default=None, help="whose warehouse, when DTSEN_SCOPE covers several")
    accept_parser = sub.add_parser("accept", help="accept a delivery held as suspect (status `suspect`)")
    accept_parser.add_argument("feed", help="the feed, e.g. dtsen")
    accept_parser.add_argument("file", help="the file as raw.delivery names it, e.g. dtsen/DTSEN_1806_202612.csv")
    accept_parser.add_argument("--kabupaten", default=None, help="the kabupaten whose landing folder holds it, "
                               "when DTSEN_SCOPE covers several")
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except ScopeError as exc:
        print(f"error: {exc}")
        return 2


def _command(args: argparse.Namespace) -> int:
    if args.command == "run":
        return run(args.persons, args.seed, args.kabupaten)
    if args.command == "link-tables":
        return link_tables_command(args.records, args.model, args.out)
    if args.command == "export-staged":
        return export_staged_command(args.out, args.kabupaten)
    if args.command == "accept":
        return accept(args.feed, args.file, args.kabupaten)
    if args.command == "province":
        if chosen_regencies(None) == [None]:
            print("error: DTSEN_SCOPE covers one area: there is no province step")
            return 2
        ensure_dagster_home()
        return run_province_step()
    if args.command == "instance":
        print(ensure_dagster_home())
        return 0
    if args.command == "serve-artifacts":
        return serve_artifacts(args.host, args.port)
    if args.command == "settings":
        from dtsen_pipeline.resources import configuration_table

        print(configuration_table())
        return 0
    for regency in chosen_regencies(args.kabupaten):
        if regency:
            print(f"== kabupaten {regency}")
        print_summary(settings_from_environment(regency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
