"""The report layer's one import path: every name of the report modules, as before the split.

``reportkit.reports.builders`` (and the alias package ``reportkit.reports``) keeps
every name the flat package's ``reports.py`` had, for the batch, templates,
notebooks and users' code. Each rule lives in one module of this package:

============================  ==========================================================
``objects.py``                the report objects (column contracts)
``kinds.py``                  the registry of report kinds (built-in and declared), :func:`build_report`
``account.py``                the account report of a declared ``per: account`` kind
``planning.py``               which reports a batch makes, who is active, team ids
``context.py``                what a batch's reports share, computed once (quotas, credits)
``statements.py``             the commission statement a report shows
``sections.py``               the steps the builders share (to-date figures, group figures,
                              group forecast, performance history)
``account_manager.py``        the account manager's report
``team.py``                   the team report and its roll-up rules
``company.py``                the company roll-up row and its rules
``company_report.py``         the company report (one per batch)
============================  ==========================================================
"""

from __future__ import annotations

from typing import Any

from . import context as _context_module
from .account import account_owners, build_account_report
from .account_manager import build_account_manager_report
from .company import COMPANY_ATTAINMENT_RULE, COMPANY_REVENUE_RULE, build_company_rollup
from .company_report import COMPANY_COMMISSION_RULE, COMPANY_PIPELINE_RULE, build_company_report
from .context import ReportContext, effective_quotas, forget_shared_contexts, report_context, shared_contexts, ytd_periods
from .kinds import PER_BUILDERS, REPORT_KINDS, ReportKind, batch_kinds, build_report
from .objects import AccountManagerReport, AccountReport, CompanyReport, TeamReport
from .planning import (
    COMPANY_ID,
    ReportSpec,
    account_manager_row,
    active_account_managers,
    plan_reports,
    reported_teams,
    team_slug,
    team_slugs,
)
from .sections import prorate
from .statements import commission_for, commission_statement, commission_summary, load_checked_plans, summary_keys
from .team import ATTAINMENT_BANDS, ROLLUP_TOTAL_RULE, TEAM_ATTAINMENT_RULE, build_team_report

__all__ = [
    "AccountManagerReport",
    "TeamReport",
    "CompanyReport",
    "AccountReport",
    "account_owners",
    "build_account_report",
    "batch_kinds",
    "PER_BUILDERS",
    "COMPANY_ID",
    "COMPANY_PIPELINE_RULE",
    "COMPANY_COMMISSION_RULE",
    "build_company_report",
    "reported_teams",
    "ReportKind",
    "REPORT_KINDS",
    "ReportSpec",
    "ATTAINMENT_BANDS",
    "TEAM_ATTAINMENT_RULE",
    "ROLLUP_TOTAL_RULE",
    "COMPANY_REVENUE_RULE",
    "COMPANY_ATTAINMENT_RULE",
    "build_company_rollup",
    "team_slug",
    "active_account_managers",
    "effective_quotas",
    "plan_reports",
    "build_account_manager_report",
    "build_team_report",
    "commission_for",
    "commission_summary",
    "summary_keys",
    "shared_contexts",
    "forget_shared_contexts",
    "build_report",
    "load_checked_plans",
    "report_context",
    "ReportContext",
    "commission_statement",
    "account_manager_row",
    "team_slugs",
    "ytd_periods",
]

# The flat module's private names that tests and users' notebooks reached for, under their new public names.
_context = report_context
_am_row = account_manager_row
_prorate = prorate


def __getattr__(name: str) -> Any:
    # ``_shared`` is the context module's live state (the contexts kept by open shared_contexts blocks).
    if name == "_shared":
        return _context_module._shared
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
