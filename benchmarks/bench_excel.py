"""Benchmark: a 1,000,000-row deal detail sheet, reportkit's writer against pandas.

Each measurement runs in its own subprocess so peak memory (``ru_maxrss``) is that
writer's alone; the frame is built inside the subprocess the same way for both,
and its own footprint is reported as ``frame`` so the writer's share is visible.

    python benchmarks/bench_excel.py            # 1,000,000 rows
    python benchmarks/bench_excel.py --rows 100000

The last lines are the figures (seconds, peak MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _frame(rows: int):
    import datetime
    from decimal import Decimal

    import pandas as pd

    start = datetime.date(2024, 7, 1)
    return pd.DataFrame(
        {
            "deal_id": pd.Series([f"D-{i:07d}" for i in range(rows)], dtype="str"),
            "account_id": pd.Series([f"ACC-{i % 5000:04d}" for i in range(rows)], dtype="str"),
            "account_name": pd.Series([f"Client {i % 5000}" for i in range(rows)], dtype="str"),
            "close_date": pd.Series([start + datetime.timedelta(days=i % 365) for i in range(rows)], dtype="object"),
            "amount": pd.Series([Decimal(((i * 7919) % 2_000_000) - 50_000).scaleb(-2) for i in range(rows)], dtype="object"),
            "stage": pd.Series(["won" if i % 7 else "lost" for i in range(rows)], dtype="str"),
            "product": pd.Series([None if i % 11 == 0 else f"Product {i % 13}" for i in range(rows)], dtype="str"),
        }
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child(which: str, rows: int, out: str) -> None:
    frame = _frame(rows)
    frame_mb = _rss_mb()
    t0 = time.perf_counter()
    if which == "reportkit":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from sample_reports import am_report

        from reportkit.excel import write_workbook

        write_workbook(am_report(deals=frame), out)
    else:
        frame.to_excel(out, engine="xlsxwriter", sheet_name="Deals", index=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": _rss_mb(), "frame_mb": frame_mb, "bytes": Path(out).stat().st_size}))


def _measure(which: str, rows: int, tmp: str) -> dict:
    out = str(Path(tmp) / f"{which}.xlsx")
    proc = subprocess.run([sys.executable, __file__, "--child", which, "--rows", str(rows), "--out", out],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--child", choices=["reportkit", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(a.child, a.rows, a.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        rk = _measure("reportkit", a.rows, tmp)
        pd_ = _measure("pandas", a.rows, tmp)
    print(f"deal detail sheet, {a.rows:,} rows x 7 columns (frame alone: {rk['frame_mb']:.0f} MB peak)")
    print(f"reportkit write_workbook : {rk['seconds']:7.1f} s  peak {rk['peak_mb']:6.0f} MB  ({rk['bytes'] / 1e6:.1f} MB file, whole AM workbook)")
    print(f"DataFrame.to_excel       : {pd_['seconds']:7.1f} s  peak {pd_['peak_mb']:6.0f} MB  ({pd_['bytes'] / 1e6:.1f} MB file, one sheet)")
    print(f"time ratio reportkit/pandas: {rk['seconds'] / pd_['seconds']:.2f}")


if __name__ == "__main__":
    main()
