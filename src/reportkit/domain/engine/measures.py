"""The engine's weighted measures and conditional multipliers (measures group, issue #13 items 13 and 14).

A step of :func:`reportkit.domain.engine.compute` after the tiers, per-deal limits and
clawbacks, before the cap: :func:`measure_step` writes, per account manager and pay
period under a plan with ``measures`` or ``multipliers``,

* one ``measure`` line per weighted measure: ``weight x attainment x TI_period``,
  rounded half away from zero to the cent (attainment capped at the measure's ``cap``,
  never below 0; undefined on a zero quota: nothing earned);
* one ``multiplier`` line per multiplier that applies: the period's commission (its
  rate-schedule lines, per-deal limits and measure lines) x ``factor`` minus that
  commission, rounded half away from zero; multipliers on different measures compound
  in plan order, on the same measure the highest threshold reached applies.

Both are commission, so the cap applies after them. Values of measures other than
revenue come from the data set's ``measures`` table (:data:`reportkit.data.model.COLUMNS`),
one row per account manager, pay period (its exact first and last day) and measure,
in exact millionths; measures taken from the deals (measures2 group: ``source: column``, a
deals column such as ``margin_cents``, and ``source: new_logos``) are summed over the run's
credit lines (:func:`deal_measure_values`). Revenue is the credited revenue and quota of
:func:`reportkit.domain.engine.quotas.attainment` (the crediting core's credit, the
plan's quota), the figures every report shows. The words of each line come from
:mod:`reportkit.domain.engine.results` (:func:`measure_words`, :func:`multiplier_words`),
which is why this step sits above the other steps in the engine's layer contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ...config.plans import PPM, Plan, ppm
from ...core.errors import DataError, DataProblem, did_you_mean
from ...core.money import MICROS_PER_CENT, rdiv
from ...core.words import counted, in_number
from ...data.model import Dataset, deal_micros
from .._credit_core import lookup
from ..accounts import new_logo_deals
from .credits import CreditLines
from .inputs import PayPeriods, PlanChoice
from .ledger import _KIND, Ledger
from .quotas import Attainment
from .results import _money_words, measure_words, multiplier_words


@dataclass(frozen=True)
class MeasureLines:
    """What the measures step added per AM and pay period (int64 cents, shape (A, P)).

    ``measure``: the weighted measures' lines; ``multiplier``: the multipliers' lines.
    The lines themselves (kinds ``measure`` and ``multiplier``, no deal) are in the ledger,
    each period's in plan order: measures, then multipliers.
    """

    measure: np.ndarray
    multiplier: np.ndarray


def uses_measures(plan: Plan) -> bool:
    """Whether a plan has weighted measures or conditional multipliers."""
    return bool(plan.measures or plan.multipliers)


def _table_measures(plan: Plan) -> list[tuple[str, str, Decimal | None]]:
    """(name, key path, default) of each measure a plan reads from the measures table."""
    out = [(m.name, f"measures.{i}", m.default) for i, m in enumerate(plan.measures) if m.source_kind == "table"]
    out += [(m.measure, f"multipliers.{i}", m.default) for i, m in enumerate(plan.multipliers) if m.measure != "revenue"]
    return out


#: Where a measure computed from the deals takes its value (measures2 group, issue #13 item 13).
DEAL_SOURCES = ("column", "new_logos")


def value_key(m) -> object:
    """The key of measure ``m``'s values in :func:`measure_step`'s table: its name (``source: table``),
    or what it counts (``("column", "margin_cents")``, ``("new_logos", 12)``) for a measure from the deals."""
    if m.source_kind == "column":
        return ("column", m.column)
    if m.source_kind == "new_logos":
        return ("new_logos", m.lookback)
    return m.name


def deal_measure_values(
    plans, lines: CreditLines, deals: pd.DataFrame, A: int, P: int, file: str = "deals"
) -> dict[object, tuple[np.ndarray, np.ndarray]]:
    """The run's measures taken from the deals, per :func:`value_key`: ``(value_micros, present)`` (A, P).

    Measures2 group (issue #13 item 13). Each credit line of the run (the crediting
    core's, in the pay period of the deal's close date: the lines the revenue measure
    sums) takes its share of its deal's value: ``value x exact credit / exact amount``
    (the line's split share and deal-type factor, :func:`reportkit.data.model.deal_micros`;
    a deal of amount 0 by its split share), rounded half away from zero to the millionth,
    then summed exactly per account manager and pay period. ``source: column``: the deal's
    column (``margin_cents``, cents); ``source: new_logos``: 1 for a new-logo deal
    (:func:`reportkit.domain.accounts.new_logo_deals`), else 0. Every (AM, period) has a
    value (0 without a line).

    Raises
    ------
    DataError
        A plan sums a deals column the data set does not have (naming ``file``, the column and the fix).
    """
    out: dict[object, tuple[np.ndarray, np.ndarray]] = {}
    dm = None  # the deals' exact amounts, read once
    for pl in plans:
        for i, m in enumerate(pl.measures):
            key = value_key(m)
            if m.source_kind not in DEAL_SOURCES or key in out:
                continue
            if m.source_kind == "column" and m.column not in deals.columns:
                raise DataError(
                    f"{file}: plan {pl.source_file or pl.name!r} sums the deals column {m.column!r} "
                    f"(key 'measures.{i}.column'), which the data set does not have",
                    [DataProblem(file, None, m.column, None, f"column {m.column} is missing from deals")],
                    hint=f"map it in the source mapping (deals: columns: {{{m.column}: <source column>}}), "
                    "or change the measure's source",
                )
            if m.source_kind == "column":
                per_deal = deals[m.column].to_numpy(np.int64) * MICROS_PER_CENT
            else:
                per_deal = np.where(new_logo_deals(deals, m.lookback), PPM, 0).astype(np.int64)
            dm = deal_micros(deals) if dm is None else dm
            out[key] = (_line_sums(per_deal, dm, lines, A, P), np.ones((A, P), dtype=bool))
    return out


def _line_sums(per_deal: np.ndarray, dm: np.ndarray, lines: CreditLines, A: int, P: int) -> np.ndarray:
    """(A, P) int64: each credit line's share of its deal's ``per_deal`` micros, rounded to the micro, summed.

    ``dm``: the deals' exact amounts (micros). A line credited the whole deal takes its
    whole value; any other its ``exact / dm`` of it (its split ``share`` on a deal of
    amount 0), rounded half away from zero, in int64 when no product can overflow,
    else in Python integers.
    """
    cr = lines.cr
    x = per_deal[cr.drow]
    amt = dm[cr.drow]
    num = np.where(amt != 0, cr.exact, cr.share.astype(np.int64))
    den = np.where(amt != 0, amt, PPM)
    whole = num == den
    val = np.where(whole, x, 0)
    part = np.flatnonzero(~whole & (x != 0))
    if len(part):
        xp, n_, d_ = x[part], num[part], den[part]
        n_, d_ = np.where(d_ < 0, -n_, n_), np.abs(d_)
        if float(np.abs(xp).max()) * float(np.abs(n_).max()) < 2.0**61:
            val[part] = rdiv(xp * n_, d_)
        else:
            val[part] = np.array(_half_away(xp.astype(object) * n_.astype(object), d_.astype(object)), dtype=np.int64)
    total = np.zeros(A * P, dtype=np.int64)
    if lines.n:
        total[lines.flat[lines.seg]] = np.add.reduceat(val, lines.seg)
    return total.reshape(A, P)


def measure_values(
    table: pd.DataFrame | None, names: set[str], ams: np.ndarray, span: PayPeriods, file: str = "measures"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The measures table's values per measure as (A, P) arrays: ``(value_micros, present)``.

    A row counts for the pay period whose first and last day are its ``period_start``
    and ``period_end``. A row of a measure in ``names`` that overlaps a pay period of
    the run without being one is a ``DataError`` (a measure is per pay period: a
    quarterly CSAT on a monthly plan is ambiguous); rows outside the run and rows of
    other measures are not read.

    Raises
    ------
    DataError
        Rows not aligned to the run's pay periods, naming ``file``, the row (table
        row + 2, as in a CSV with a header), the dates and the fix.
    """
    A, P = len(ams), span.n
    out = {n: (np.zeros((A, P), dtype=np.int64), np.zeros((A, P), dtype=bool)) for n in names}
    if table is None or not len(table) or not names:
        return out
    t = table.reset_index(drop=True)
    mine = t["measure"].astype(str).isin(sorted(names)).to_numpy()
    starts = np.array([np.datetime64(p.start, "ns") for p in span.periods])
    ends = np.array([np.datetime64(p.end, "ns") for p in span.periods])
    ps = t["period_start"].to_numpy("datetime64[ns]")
    pe = t["period_end"].to_numpy("datetime64[ns]")
    j = np.searchsorted(starts, ps)
    jc = np.minimum(j, P - 1)
    aligned = (j < P) & (starts[jc] == ps) & (ends[jc] == pe)
    overlaps = (ps <= ends[-1]) & (pe >= starts[0])
    bad = np.flatnonzero(mine & overlaps & ~aligned)
    if len(bad):
        raise DataError(
            f"{file}: {counted(len(bad), 'measures row')} {in_number(len(bad), 'does', 'do')} not cover exactly one pay period of the run",
            [
                DataProblem(
                    file,
                    int(i) + 2,
                    "period_start",
                    f"{pd.Timestamp(ps[i]).date()}..{pd.Timestamp(pe[i]).date()}",
                    f"measure {t.at[i, 'measure']!r}: a value is per pay period ("
                    + ", ".join(f"{p.label} {p.start}..{p.end}" for p in span.periods[:4])
                    + (" ..." if P > 4 else "")
                    + ")",
                )
                for i in bad
            ],
            hint="give one row per account manager, pay period and measure, with the pay period's first and last day",
        )
    a = lookup(t["account_manager_id"].astype(str), ams)
    use = np.flatnonzero(mine & aligned & (a >= 0))
    vals = t["value_micros"].to_numpy(np.int64)
    meas = t["measure"].astype(str).to_numpy(dtype=object)
    for name, (v, has) in out.items():
        i = use[meas[use] == name]
        v[a[i], j[i]] = vals[i]
        has[a[i], j[i]] = True
    return out


def _missing(choice: PlanChoice, active: np.ndarray, values: dict, ams: np.ndarray, span: PayPeriods, table, file: str) -> None:
    """Refuse a run in which a plan needs a table measure that an active AM lacks in a period (no default)."""
    problems = []
    known = sorted(set(table["measure"].astype(str))) if table is not None and len(table) else []
    for g, pl in enumerate(choice.plans):
        for name, key, default in _table_measures(pl):
            if default is not None:
                continue
            _, has = values[name]
            lacking = (choice.pidx == g) & active & ~has
            if name not in known and lacking.any():  # a name no row has (a typo): once, with the names allowed
                problems.append(_unknown_measure(file, name, key, pl, known))
                continue
            for a, j in zip(*np.nonzero(lacking)):
                p = span.periods[j]
                problems.append(
                    DataProblem(
                        file,
                        None,
                        "measure",
                        name,
                        f"no value of measure {name!r} for account manager {ams[a]!r} in {p.label} ({p.start}..{p.end}), "
                        f"which plan {pl.source_file or pl.name!r} reads (key '{key}'){did_you_mean(name, known)}",
                    )
                )
    if problems:
        raise DataError(
            f"{file}: {counted(len(problems), 'measure value')} missing or naming an unknown measure",
            problems,
            hint="add the rows to the measures table (account_manager_id, period_start, period_end, measure, value_micros), "
            "or give the plan's measure or multiplier a 'default'",
        )


def _unknown_measure(file: str, name: str, key: str, plan, known: list[str]) -> DataProblem:
    """The one problem of a plan measure no row of the measures table names, with the names it may use."""
    allowed = (["revenue"] if key.startswith("multipliers.") else []) + known
    has = (
        f"no row of the measures table names it (its measures: {', '.join(map(repr, known))})"
        if known
        else "the data set has no measures table"
    )
    return DataProblem(
        file,
        None,
        "measure",
        name,
        f"plan {plan.source_file or plan.name!r} reads measure {name!r} (key '{key}'), but {has}"
        + ("; a multiplier may also read 'revenue' (quota attainment)" if key.startswith("multipliers.") else "")
        + did_you_mean(name, allowed),
    )


def _active(quotas_out: pd.DataFrame, ams: np.ndarray, span: PayPeriods) -> np.ndarray:
    """(A, P) bool: the AM counts for some of the pay period (the quota table's ``prorate_num > 0``)."""
    act = np.zeros((len(ams), span.n), dtype=bool)
    if not len(quotas_out):
        return act
    a = lookup(quotas_out["account_manager_id"], ams)
    j = lookup(quotas_out["period"], span.labels)
    ok = (a >= 0) & (j >= 0)
    act[a[ok], j[ok]] = quotas_out["prorate_num"].to_numpy(np.int64)[ok] > 0
    return act


def measure_step(
    choice: PlanChoice,
    att: Attainment,
    span: PayPeriods,
    ti: np.ndarray | None,
    commission: np.ndarray,
    ds: Dataset,
    lines: CreditLines,
    quotas_out: pd.DataFrame,
    ams: np.ndarray,
    ledger: Ledger,
) -> MeasureLines:
    """Weighted measure lines, then multiplier lines, of every AM and pay period whose plan has them.

    Parameters
    ----------
    choice, att, span
        The run's plans per AM and period, credited revenue and quota (cents), pay periods.
    ti : int64 array (A, P) or None
        Target incentive per AM and pay period in cents
        (:func:`reportkit.domain.engine.caps.period_target_incentive`); needed by ``measures``.
    commission : int64 array (A, P)
        The period's commission so far (rate-schedule lines and per-deal limits), cents.
    ds : Dataset
        The run's data set: its ``measures`` table (``account_manager_id, period_start,
        period_end, measure, value_micros``) and its ``deals`` (measures taken from the
        deals, ``source: column`` / ``new_logos``: :func:`deal_measure_values`), and
        where each came from (``ds.sources``), for messages.
    lines : CreditLines
        The run's credit lines in ledger order (positions into ``ds.deals``' rows).
    quotas_out : DataFrame
        The run's quota table (who is active in which period: only they need values).
    ledger : Ledger
        Receives the lines (kinds ``measure`` and ``multiplier``), one batch per measure
        or multiplier and pay period, in plan order.

    Returns
    -------
    MeasureLines

    Raises
    ------
    DataError
        A measure value an active AM on the plan needs is missing (and the plan gives no
        ``default``): every missing (AM, measure, period) named; rows not aligned to pay periods.
    """
    A, P = choice.pidx.shape
    measure = np.zeros((A, P), dtype=np.int64)
    multiplier = np.zeros((A, P), dtype=np.int64)
    names = {n for pl in choice.plans for n, _, _ in _table_measures(pl)}
    table, file = ds.measures, ds.sources.get("measures") or "measures"
    values = measure_values(table, names, ams, span, file)
    # measures2 group: measures from the deals
    values.update(deal_measure_values(choice.plans, lines, ds.deals, A, P, ds.sources.get("deals") or "deals"))
    active = _active(quotas_out, ams, span)
    _missing(choice, active, values, ams, span, table, file)
    for g, pl in enumerate(choice.plans):
        if not uses_measures(pl):
            continue
        for j in range(P):
            rows = np.flatnonzero((choice.pidx[:, j] == g) & active[:, j])
            if not len(rows):
                continue
            for m in pl.measures:
                amt, texts = _measure_amounts(pl, m, rows, j, att, ti, values)
                measure[rows, j] += amt
                _add(ledger, "measure", rows, j, amt, texts)
            base = commission[rows, j] + measure[rows, j]
            for _name, pick in _multipliers_reached(pl, rows, j, att, values):
                hit = np.flatnonzero((pick >= 0) & (base > 0))  # a commission of zero or less is never multiplied
                if not len(hit):
                    continue
                f_ppm = np.array([ppm(pl.multipliers[i].factor) for i in pick[hit]], dtype=object)
                b = base[hit].astype(object)
                amt = np.array(_half_away(b * f_ppm, PPM) - b, dtype=np.int64)
                texts = []
                for k, i, bk, ak in zip(hit.tolist(), pick[hit].tolist(), b.tolist(), amt.tolist()):
                    mu = pl.multipliers[i]
                    value = _multiplier_value(mu.measure, int(rows[k]), j, att, values, mu.default)
                    texts.append(multiplier_words(pl.name, mu.measure, value, mu.at_least, mu.factor, bk, ak))
                multiplier[rows[hit], j] += amt
                base[hit] += amt
                _add(ledger, "multiplier", rows[hit], j, amt, texts)
    return MeasureLines(measure, multiplier)


def _add(ledger: Ledger, kind: str, rows: np.ndarray, j: int, amt: np.ndarray, texts: list[str]) -> None:
    """One batch of period lines without a deal: AMs ``rows`` in period ``j``, each with its own words."""
    ledger.add(
        am=rows,
        p=j,
        kind=_KIND[kind],
        amount=np.asarray(amt, dtype=np.int64),
        rule=np.array(ledger.rule_codes(texts), dtype=np.int64),
    )


def _half_away(num: np.ndarray, den) -> np.ndarray:
    """Exact ``num / den`` rounded half away from zero, on object arrays of Python ints (no int64 overflow)."""
    q = (2 * np.abs(num) + den) // (2 * den)
    return np.where(num < 0, -q, q)


def _measure_amounts(pl: Plan, m, rows: np.ndarray, j: int, att: Attainment, ti, values) -> tuple[np.ndarray, list[str]]:
    """Cents and words of measure ``m``'s lines for AMs ``rows`` in period ``j``: ``weight x attainment x TI``.

    Exact in Python integers: ``round(TI x weight_ppm x paid_num / (1e6 x paid_den))``, the
    paid attainment ``num / den`` capped at ``cap`` and never below 0; nothing where the
    target (quota) is 0.
    """
    t = (ti[rows, j] if ti is not None else np.zeros(len(rows), dtype=np.int64)).astype(object)
    if m.source_kind == "revenue":
        num, den = att.credit[rows, j].astype(object), att.quota[rows, j].astype(object)
        value = [_money_words(c) for c in num.tolist()]
        target = [_money_words(c) for c in den.tolist()]
    else:
        v, has = values[value_key(m)]
        num = np.where(has[rows, j], v[rows, j], ppm(m.default) if m.default is not None else 0).astype(object)
        den = np.full(len(rows), ppm(m.target), dtype=object)
        if m.source_kind == "column":  # money (measures2 group): shown as money, the exact sum to the millionth
            value = [_micros_money_words(int(x)) for x in num.tolist()]
            target = [f"{m.target:,.2f}"] * len(rows)
        else:
            value = [f"{Decimal(int(x)).scaleb(-6).normalize():f}" for x in num.tolist()]
            target = [f"{m.target.normalize():f}"] * len(rows)
    defined = den > 0
    pn = np.where(defined, np.maximum(num, 0), 0)
    pd_ = np.where(defined, den, 1)
    if m.cap is not None:
        over = pn * PPM > ppm(m.cap) * pd_
        pn, pd_ = np.where(over, ppm(m.cap), pn), np.where(over, PPM, pd_)
    amt = np.array(_half_away(t * ppm(m.weight) * pn, PPM * pd_), dtype=np.int64)
    texts = [
        measure_words(
            pl.name, m.name, m.weight, vk, tk, Decimal(int(n)) / Decimal(int(d)) if ok else None, m.cap, int(tt), int(a)
        )
        for vk, tk, n, d, ok, tt, a in zip(value, target, num.tolist(), den.tolist(), defined.tolist(), t.tolist(), amt.tolist())
    ]
    return amt, texts


def _micros_money_words(micros: int) -> str:
    """An exact sum in millionths as money: two decimals, more only where the share of a split needs them."""
    d = Decimal(micros).scaleb(-6)
    return f"{d:,.2f}" if d == d.quantize(Decimal("0.01")) else f"{d.normalize():,f}"


def _multiplier_value(measure: str, a: int, j: int, att: Attainment, values, default) -> Decimal | None:
    """The measure a multiplier reads for AM ``a`` in period ``j`` as an exact fraction (None: undefined)."""
    if measure == "revenue":
        q = int(att.quota[a, j])
        return None if q <= 0 else Decimal(int(att.credit[a, j])) / q
    v, has = values[measure]
    return Decimal(int(v[a, j]) if has[a, j] else ppm(default)) / PPM


def _multipliers_reached(pl: Plan, rows: np.ndarray, j: int, att: Attainment, values):
    """Per measure of the plan's multipliers (in plan order): the index of the entry applying to each row (-1: none).

    The entry with the highest ``at_least`` the row's value reaches (compared exactly, in
    Python integers); revenue attainment on a zero quota reaches none.
    """
    order: list[str] = []
    for mu in pl.multipliers:
        if mu.measure not in order:
            order.append(mu.measure)
    for name in order:
        entries = sorted((mu.at_least, i) for i, mu in enumerate(pl.multipliers) if mu.measure == name)
        pick = np.full(len(rows), -1, dtype=np.int64)
        for at_least, i in entries:  # rising thresholds: a later one reached replaces an earlier one
            thr = ppm(at_least)
            if name == "revenue":
                q = att.quota[rows, j].astype(object)
                ok = (q > 0) & (att.credit[rows, j].astype(object) * PPM >= thr * q)
            else:
                v, has = values[name]
                d = pl.multipliers[i].default
                ok = np.where(has[rows, j], v[rows, j] >= thr, d is not None and ppm(d) >= thr)
            pick[np.asarray(ok, dtype=bool)] = i
        yield name, pick
