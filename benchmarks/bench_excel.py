"""Benchmark: a 1,000,000-row deal detail sheet, reportkit's writer against pandas.

Each measurement runs in its own subprocess so peak memory (``ru_maxrss``) is that
writer's alone; the frame is built inside the subprocess the same way for both.

The frame is what the report path hands the writer: the ``deals`` frame of an
:class:`~reportkit.reports.builders.AccountManagerReport` (columns, dtypes and value
types are checked against a real demo report before measuring: text columns
``str``, ``close_date`` as ``datetime.date`` objects, ``amount`` as ``Decimal``
cents), written by the same ``write_workbook(report, path)`` call batch makes.
The frame is built in 100,000-row chunks so that building it (Python lists of a
million strings on the way to Arrow) does not set the peak; ``frame`` in the
output is the process's resident size once it is built (interpreter, pandas
and the frame).

After both runs the Deals sheet's amount cells are read back from the xlsx
(streamed, every row) and compared with the frame's Decimal figures: each cell
must show the same cents (``--no-verify`` skips this).

    python benchmarks/bench_excel.py            # 1,000,000 rows
    python benchmarks/bench_excel.py --rows 100000
    python benchmarks/bench_excel.py --smoke    # 2,000 rows: only checks that it runs

The last lines are the figures (seconds, peak MB).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

_CHUNK = 100_000


def _amount_cents(i: int) -> int:
    """Deal ``i``'s amount in cents (some negative: refunds)."""
    return ((i * 7919) % 2_000_000) - 50_000


def _frame(rows: int):
    """The deals frame of an AM report with ``rows`` deals (same columns and types as reports.py builds)."""
    import datetime
    from decimal import Decimal

    import pandas as pd

    start = datetime.date(2024, 7, 1)
    makers = {
        "deal_id": ("str", lambda i: f"D-{i:07d}"),
        "account_id": ("str", lambda i: f"ACC-{i % 5000:04d}"),
        "account_name": ("str", lambda i: f"Client {i % 5000}"),
        "close_date": ("object", lambda i: start + datetime.timedelta(days=i % 365)),
        "amount": ("object", lambda i: Decimal(_amount_cents(i)).scaleb(-2)),  # cents -> Decimal 0.01, exact
        "stage": ("str", lambda i: "won" if i % 7 else "lost"),
        "product": ("str", lambda i: None if i % 11 == 0 else f"Product {i % 13}"),
    }
    columns = {}
    for name, (dtype, make) in makers.items():
        parts = [pd.Series([make(i) for i in range(lo, min(rows, lo + _CHUNK))], dtype=dtype) for lo in range(0, rows, _CHUNK)]
        columns[name] = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=dtype)
        del parts
    return pd.DataFrame(columns, copy=False)


def _check_matches_report_frame() -> None:
    """Refuse to measure a frame unlike a real report's ``deals`` (columns, dtypes, value types)."""
    from reportkit.domain.loading import load_inputs
    from reportkit.reports.builders import build_report

    root = Path(__file__).resolve().parents[1]
    params, ds = load_inputs(root / "params" / "demo.yaml")
    am_id = str(ds.deals["account_manager_id"].dropna().iloc[0])
    real = build_report(ds, params, kind="account_manager", report_id=am_id, period=params.period, as_of=params.as_of).deals
    ours = _frame(50)
    assert list(ours.columns) == list(real.columns), (list(ours.columns), list(real.columns))
    for c in real.columns:
        assert ours[c].dtype == real[c].dtype, (c, ours[c].dtype, real[c].dtype)
        types = lambda s: {type(v) for v in s if v is not None and v == v}  # noqa: E731
        assert types(ours[c]) == types(real[c]), (c, types(ours[c]), types(real[c]))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _resident_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _rss_mb()


def _child(which: str, rows: int, out: str) -> None:
    frame = _frame(rows)
    frame_mb = _resident_mb()
    built_peak_mb = _rss_mb()
    t0 = time.perf_counter()
    if which == "reportkit":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from sample_reports import am_report

        from reportkit.render.excel import write_workbook

        write_workbook(am_report(deals=frame), out)  # as run/execute.py's execute_report does
    else:
        frame.to_excel(out, engine="xlsxwriter", sheet_name="Deals", index=False)
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": _rss_mb(),
                "frame_mb": frame_mb,
                "built_peak_mb": built_peak_mb,
                "bytes": Path(out).stat().st_size,
            }
        )
    )


def _measure(which: str, rows: int, tmp: str) -> tuple[dict, str]:
    out = str(Path(tmp) / f"{which}.xlsx")
    proc = subprocess.run(
        [sys.executable, __file__, "--child", which, "--rows", str(rows), "--out", out],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), out


def _sheet_member(z: zipfile.ZipFile, name: str) -> str:
    """The zip member of the worksheet called ``name``."""
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{re.escape(name)}" sheetId="\d+" r:id="(rId\d+)"', wb).group(1)
    target = re.search(rf'<Relationship Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


def _verify_cents(path: str, rows: int, column: str = "E") -> int:
    """Every amount cell of the Deals sheet shows the frame's cents; returns the cells checked."""
    from decimal import ROUND_HALF_UP, Decimal

    cent = Decimal("0.01")
    cell = re.compile(rf'<c r="{column}(\d+)"(?: s="\d+")?><v>([^<]*)</v></c>')  # numbers only (no t="...")
    checked, tail, first = 0, "", None  # first: the row of the first deal (below the print title and the header)
    with zipfile.ZipFile(path) as z, z.open(_sheet_member(z, "Deals")) as fh:
        while True:
            block = fh.read(1 << 22).decode()
            text = tail + block
            cut = text.rfind("</row>") + len("</row>") if block else len(text)
            for r, v in cell.findall(text[:cut]):
                first = int(r) if first is None else first
                i = int(r) - first
                expected = Decimal(_amount_cents(i)).scaleb(-2)
                got = Decimal(v)
                if got.quantize(cent, rounding=ROUND_HALF_UP) != expected or float(v) != float(expected):
                    raise SystemExit(f"row {r}: the workbook holds {v}, the report says {expected}")
                checked += 1
            tail = text[cut:]
            if not block:
                break
    if checked != rows:
        raise SystemExit(f"checked {checked:,} amount cells, expected {rows:,}")
    return checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-verify", action="store_true", help="skip reading the amounts back")
    ap.add_argument("--child", choices=["reportkit", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="the tiniest run, to check the script works: 2,000 rows")
    a = ap.parse_args()
    if a.smoke:
        a.rows = 2_000
    if a.child:
        _child(a.child, a.rows, a.out)
        return
    _check_matches_report_frame()
    with tempfile.TemporaryDirectory() as tmp:
        rk, rk_path = _measure("reportkit", a.rows, tmp)
        pd_, _ = _measure("pandas", a.rows, tmp)
        checked = None if a.no_verify else _verify_cents(rk_path, a.rows)
    print(
        f"deal detail sheet, {a.rows:,} rows x 7 columns, as a report's deals frame "
        f"(process with the frame built: {rk['frame_mb']:.0f} MB resident, {rk['built_peak_mb']:.0f} MB peak)"
    )
    print(
        f"reportkit write_workbook : {rk['seconds']:7.1f} s  peak {rk['peak_mb']:6.0f} MB  ({rk['bytes'] / 1e6:.1f} MB file, whole AM workbook)"
    )
    print(
        f"DataFrame.to_excel       : {pd_['seconds']:7.1f} s  peak {pd_['peak_mb']:6.0f} MB  ({pd_['bytes'] / 1e6:.1f} MB file, one sheet)"
    )
    if checked is not None:
        print(f"amounts read back: {checked:,} cells, each the report's cents")
    print(f"time ratio reportkit/pandas: {rk['seconds'] / pd_['seconds']:.2f}")


if __name__ == "__main__":
    main()
