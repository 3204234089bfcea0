"""CLI: python -m dtsen_pipeline.sample --persons N --seed S --out DIR [--as-of YYYY-MM-DD] [--damage-scale F]
[--profile base|field] [--kabupaten 18.06].

Prints counts only; the files it writes are synthetic but shaped like personal data, so
nothing from them is echoed to the terminal or logs.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from dtsen_pipeline.regencies import scope_regencies
from dtsen_pipeline.sample.generator import DEFAULT_AS_OF, generate
from dtsen_pipeline.sample.province import generate_province
from dtsen_pipeline.sample.regions import KABUPATEN, regency


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dtsen_pipeline.sample", description=__doc__)
    p.add_argument("--persons", type=int, required=True, help="number of true persons (1,000 to 700,000)")
    p.add_argument("--seed", type=int, required=True, help="random seed; same seed, same bytes")
    p.add_argument("--out", type=Path, required=True, help="output directory (landing layout)")
    p.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=DEFAULT_AS_OF,
        help=f"reference date of the extracts (default {DEFAULT_AS_OF.isoformat()})",
    )
    p.add_argument(
        "--damage-scale",
        type=float,
        default=1.0,
        help="multiply every record-damage rate (typos, partial dates, separators...; at most 1 each); default 1",
    )
    p.add_argument(
        "--profile",
        choices=("base", "field"),
        default="base",
        help="damage profile: base (default, as always) or field (movers, transpositions, spreadsheets)",
    )
    p.add_argument(
        "--kabupaten",
        default=KABUPATEN,
        help=f"Kemendagri code of the Lampung kabupaten/kota to draw, e.g. 18.10 (default {KABUPATEN} Tanggamus); "
        "several (18.06,18.10) or the province (18): a province sample, --persons each, with the people who moved "
        "between them (<out>/<code>/, truth in <out>/_truth/)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace feed folders and _truth/ already present in --out"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Generate the sample and print a short summary of counts."""
    args = _parser().parse_args(argv)
    if not 1 <= args.persons <= 1_000_000:
        _parser().error("--persons must be between 1 and 1,000,000")
    if args.damage_scale < 0:
        _parser().error("--damage-scale must not be negative")
    try:
        regencies = scope_regencies(args.kabupaten)
        for code in regencies:
            regency(code)
    except ValueError as exc:
        _parser().error(f"--kabupaten: {exc}")
    start = time.perf_counter()
    try:
        if len(regencies) > 1:
            if args.damage_scale != 1.0:
                _parser().error("--damage-scale applies to one kabupaten's sample")
            summary = generate_province(list(regencies), args.persons, args.seed, args.out, as_of=args.as_of,
                                        profile=args.profile)
        else:
            summary = generate(args.persons, args.seed, args.out, args.as_of, overwrite=args.overwrite,
                               damage_scale=args.damage_scale, profile=args.profile, kabupaten=args.kabupaten)
    except FileExistsError as exc:
        print(f"error: {exc}")
        return 2
    for line in summary.lines():
        print(line)
    print(f"seconds: {time.perf_counter() - start:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
