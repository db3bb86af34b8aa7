"""The fault soak, run by hand: many seeded mornings of tests/harness/faults/ (the same code as
tests/system/test_faults.py), longer, with cable cuts of a minute. Prints one line per morning and a summary:
runs, faults injected by kind, traps fired, violations (with the seed that replays each).

    .venv/bin/python -m bench.soak_faults --runs 20 --slots 400 --cut-seconds 60
    .venv/bin/python -m bench.soak_faults --seed 1007 --slots 400 --cut-seconds 60   # replay one morning
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from tests.harness.faults.morning import Morning  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="how many mornings (seeds from --first on)")
    parser.add_argument("--first", type=int, default=1000, help="the first seed")
    parser.add_argument("--seed", type=int, help="run this one seed only")
    parser.add_argument("--slots", type=int, default=400, help="presses and desk moves per morning")
    parser.add_argument("--cut-seconds", type=float, default=60.0, help="how long a device's cable stays cut")
    parser.add_argument("--settle-seconds", type=float, default=180.0, help="how long everything may take to "
                        "come back at the end (a device cut off for a minute reconnects up to 30 s later)")
    parser.add_argument("--keep", type=Path, help="keep the state of each morning with violations here")
    parser.add_argument("--verbose", action="store_true", help="the roles' own log")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)
    seeds = [args.seed] if args.seed is not None else list(range(args.first, args.first + args.runs))
    injected, fired, totals, failed = Counter(), Counter(), Counter(), {}
    started = time.monotonic()
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix=f"soak-{seed}-") as workdir:
            t0 = time.monotonic()
            with Morning(Path(workdir), seed, slots=args.slots, cut_s=args.cut_seconds,
                         settle_s=args.settle_seconds) as morning:
                morning.run()
            summary = morning.summary()
            if morning.violations:
                failed[seed] = morning.violations
                if args.keep:
                    shutil.copytree(workdir, args.keep / f"seed-{seed}", dirs_exist_ok=True)
        injected.update(summary["injected"])
        fired.update(summary["fired"])
        totals.update({k: summary[k] for k in ("printed", "void", "calls", "ratings", "transfers", "announced")})
        print(f"seed {seed}: {time.monotonic() - t0:5.0f} s, {summary['actions']} actions, {summary['printed']} "
              f"printed, {summary['void']} void, {summary['calls']} calls, {summary['ratings']} ratings, "
              f"{sum(summary['injected'].values())} faults, {len(morning.violations)} violations", flush=True)
        for violation in morning.violations:
            print(f"    {violation}", flush=True)
    print(f"\n{len(seeds)} mornings in {(time.monotonic() - started) / 60:.1f} min: "
          + ", ".join(f"{n} {k}" for k, n in totals.items()))
    print("faults injected: " + ", ".join(f"{k} {n}" for k, n in sorted(injected.items())))
    print("traps fired: " + ", ".join(f"{k} {n}" for k, n in sorted(fired.items())))
    print(f"violations: {sum(len(v) for v in failed.values())} in {len(failed)} mornings"
          + (f" (seeds {', '.join(map(str, failed))})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
