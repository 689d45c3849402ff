"""The headline scenarios of one checkout, for comparing model versions (docs/v2_changes.md).

``run`` imports ``sim`` from whichever checkout is first on ``PYTHONPATH`` (so the same script
measures v1, v2 before its calibrated defaults and v2 after), runs every scenario of that
checkout's ``experiments/headline.toml`` for seeds 1..N (the same seed in every scenario, so
differences are paired) and writes one row per (scenario, seed): the final year's mean of each
district column listed below (NaN where the version has no such column) and, for projects, the
funded share of applications summed over the reform years (``budget_books()``).

``table`` reads two or more such CSV files and prints the Markdown tables of docs/v2_changes.md:
the reform's headline effect by version, levels of the no-reform and reform scenarios, and each
scenario's paired difference against the scenario it is compared with.

    PYTHONPATH=/tmp/v1 python benchmarks/headline_versions.py run --out /tmp/h_v1.csv
    PYTHONPATH=$PWD python benchmarks/headline_versions.py run --out /tmp/h_v2.csv
    python benchmarks/headline_versions.py table /tmp/h_v1.csv /tmp/h_v2.csv --labels v1 v2
"""

from __future__ import annotations

import argparse
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

COLUMNS = {  # district column -> label in the tables
    "admin_burden": "burden",
    "service_coverage": "coverage",
    "service_quality": "quality",
    "satisfaction": "satisf.",
    "participation": "particip.",
    "local_money_share": "local money",
    "contract_hhi": "HHI",
    "n_orgs_grassroots": "groups",
    "n_registered": "registered",
    "n_social_workers": "social workers",
    "turnover": "turnover/mo",
    "projects_funded": "projects funded",
    "items_received": "items received/mo",
    "undone_item_hours": "undone item h/mo",
}
EFFECT_COLUMNS = ("admin_burden", "service_coverage", "service_quality", "satisfaction")
AGAINST = {  # scenario -> the scenario its difference is taken against
    "wuhou_reform": "baseline_2013",
    **{f"reform_minus_{x}": "wuhou_reform" for x in ("entry_control", "purchase", "projects")},
    **{f"reform_minus_{x}": "wuhou_reform" for x in ("threshold", "centres", "brand")},
    **{f"baseline_plus_{x}": "baseline_2013" for x in ("entry_control", "purchase", "projects")},
    **{f"baseline_plus_{x}": "baseline_2013" for x in ("threshold", "centres", "brand")},
    "reform_commission": "wuhou_reform",
    "reform_minimal_threshold": "wuhou_reform",
}
DIFF_COLUMNS = (
    "admin_burden",
    "service_coverage",
    "service_quality",
    "satisfaction",
    "local_money_share",
    "n_orgs_grassroots",
)


def _one(job: tuple[str, int]) -> dict:
    import numpy as np

    from sim import DistrictModel, load_scenario

    path, seed = job
    scenario = load_scenario(path)
    model = DistrictModel(scenario, rng=seed)
    model.run_for(scenario.months)
    district = model.results()["district"]
    year = int(district["year"].max())
    last = district[district["year"] == year]
    row = {"scenario": Path(path).stem, "seed": seed, "year": year}
    for col in COLUMNS:
        if col in last.columns:
            row[col] = float(last[col].astype(float).mean())
    books = model.budget_books()
    if {"projects_funded", "projects_applied"} <= set(books.columns):
        reform_years = books[books["year"] >= 2014]
        applied = float(reform_years["projects_applied"].sum())
        row["projects_funded"] = (
            float(reform_years["projects_funded"].sum()) / applied if applied else 0.0
        )
    else:
        row["projects_funded"] = np.nan
    return row


def run(out: Path, seeds: int, workers: int) -> None:
    import pandas as pd

    import sim

    root = Path(sim.__file__).resolve().parents[1]
    spec = tomllib.loads((root / "experiments" / "headline.toml").read_text(encoding="utf-8"))
    paths = [str((root / "experiments" / s).resolve()) for s in spec["scenarios"]]
    jobs = [(p, seed) for p in paths for seed in range(1, seeds + 1)]
    print(f"{root}: {len(paths)} scenarios x {seeds} seeds", flush=True)
    with ProcessPoolExecutor(workers) as pool:
        rows = list(pool.map(_one, jobs))
    frame = pd.DataFrame(rows)
    frame.to_csv(out, index=False)
    print(f"wrote {out} ({len(frame)} runs)")


def _fmt(col: str, value: float, signed: bool = False) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if col in ("n_orgs_grassroots", "n_registered", "n_social_workers"):
        return f"{value:+.0f}" if signed else f"{value:.0f}"
    if col in ("items_received", "undone_item_hours"):
        return f"{value:,.0f}"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def table(files: list[Path], labels: list[str]) -> str:
    import pandas as pd

    frames = {lab: pd.read_csv(f) for lab, f in zip(labels, files, strict=True)}
    means = {lab: f.groupby("scenario").mean(numeric_only=True) for lab, f in frames.items()}

    def diff(lab: str, scenario: str, col: str) -> float:
        f = frames[lab].set_index(["scenario", "seed"])
        if col not in f.columns:
            return float("nan")
        a = f.loc[scenario, col]
        b = f.loc[AGAINST[scenario], col]
        return float((a - b).mean())

    out = ["**The reform's effect (wuhou_reform − baseline_2013, paired by seed)**", ""]
    head = ["output", *labels]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for col in EFFECT_COLUMNS:
        cells = [_fmt(col, diff(lab, "wuhou_reform", col), True) for lab in labels]
        out.append(f"| {COLUMNS[col]} | " + " | ".join(cells) + " |")
    out += ["", "**Levels**", ""]
    head = ["output"] + [f"{s} {lab}" for s in ("baseline_2013", "wuhou_reform") for lab in labels]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for col, label in COLUMNS.items():
        cells = []
        for s in ("baseline_2013", "wuhou_reform"):
            for lab in labels:
                m = means[lab]
                v = m.loc[s, col] if col in m.columns else float("nan")
                cells.append(_fmt(col, float(v)))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out += ["", "**Effects (difference against the scenario in brackets, paired by seed)**", ""]
    head = ["scenario (difference against)"] + [
        f"{COLUMNS[c]} {lab}" for c in DIFF_COLUMNS for lab in labels
    ]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s, against in AGAINST.items():
        cells = [_fmt(c, diff(lab, s, c), True) for c in DIFF_COLUMNS for lab in labels]
        out.append(f"| {s} (− {against}) | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the headline scenarios of the checkout on PYTHONPATH")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--seeds", type=int, default=5)
    r.add_argument("--workers", type=int, default=2)
    t = sub.add_parser("table", help="the Markdown tables from run CSVs")
    t.add_argument("files", type=Path, nargs="+")
    t.add_argument("--labels", nargs="+")
    args = parser.parse_args()
    if args.command == "run":
        run(args.out, args.seeds, args.workers)
    else:
        print(table(args.files, args.labels or [f.stem for f in args.files]))


if __name__ == "__main__":
    main()
