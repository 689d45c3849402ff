"""Write a stand-in 'posterior' file sampled from a targets file's prior ranges (uniform).

For timing and trying a posterior design before the ABC calibration has written a real posterior:
the file has the posterior format (sim.experiment.posterior) and says in its provenance that it is
a prior sample. Effects computed over it show uncertainty over the whole prior, not the posterior.

    python benchmarks/prior_posterior.py scenarios/targets/wuhou.toml OUT.parquet [--n 200]
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.calibration.targets import load_targets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=200, help="particles (default 200)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    targets = load_targets(args.targets)
    rng = np.random.default_rng(np.random.SeedSequence(args.seed))
    columns = {}
    for p in targets.parameters:
        columns[p.key] = pa.array(rng.uniform(p.low, p.high, args.n), pa.float64())
    columns["weight"] = pa.array(np.full(args.n, 1 / args.n), pa.float64())
    columns["generation"] = pa.array(np.zeros(args.n, dtype=np.int64))
    columns["particle"] = pa.array(np.arange(args.n, dtype=np.int64))
    provenance = {
        "method": "prior sample (NOT a posterior): uniform over the targets file's ranges",
        "targets": args.targets,
        "seed": args.seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    table = pa.table(columns).replace_schema_metadata(
        {b"sanshe.provenance": json.dumps(provenance).encode()}
    )
    pq.write_table(table, args.out)
    print(f"wrote {args.out}: {args.n} particles from the prior of {args.targets}")


if __name__ == "__main__":
    main()
