"""Words: the one home of a plural a reader sees ("1 team", "3 teams"), and of a name's ASCII id form.

Counted nouns are used wherever a count stands before a noun: the batch's counts line
(report kinds by their titles), the index's report count, the company report's
heading, the diff and restatement reasons ("3 deals added"), an FX rate's note, and every
message that counts rows, cells, files or problems ("1 data problem", "2 amounts are not
exact cents"): no user-facing text says "(s)" (``tests/test_plain_words.py``).
:func:`ascii_words` is the one rule that turns a name into file-name-safe words: a
team's id (``reports.planning.team_slug``) and every report's file name
(``run.outputs.slugify``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["plural", "counted", "in_number", "ascii_words"]


def ascii_words(text: str) -> str:
    """``text`` as lower-case ASCII letters and digits joined by single hyphens, accents folded.

    Letters with accents keep their base letter (``É`` -> ``e``, ``ü`` -> ``u``); what
    has no ASCII form (``東京``) and every other character separate words. May be empty.

    Examples
    --------
    >>> ascii_words("Équipe Süd/Ost"), ascii_words("West Coast (A&B)"), ascii_words("東京")
    ('equipe-sud-ost', 'west-coast-a-b', '')
    """
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-").lower()


def plural(noun: str) -> str:
    """The plural of an English noun phrase (its last word): ``team`` -> ``teams``, ``pipeline review`` ->
    ``pipeline reviews``, ``summary`` -> ``summaries``, ``batch`` -> ``batches``.

    Examples
    --------
    >>> plural("team"), plural("Pipeline review"), plural("account summary"), plural("batch")
    ('teams', 'Pipeline reviews', 'account summaries', 'batches')
    """
    low = noun.lower()
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def counted(n: int, noun: str, plural_form: str | None = None) -> str:
    """``n`` and ``noun`` in its number: ``1 team``, ``0 teams``, ``1,200 reports``.

    Parameters
    ----------
    n : int
        The count (thousands separated by commas).
    noun : str
        The singular.
    plural_form : str, optional
        The plural when it is not :func:`plural` of ``noun``.

    Examples
    --------
    >>> counted(1, "team"), counted(3, "team"), counted(0, "report"), counted(2, "person", "people")
    ('1 team', '3 teams', '0 reports', '2 people')
    """
    return f"{n:,} {in_number(n, noun, plural_form)}"


def in_number(n: int, word: str, plural_form: str | None = None) -> str:
    """``word`` in the number of ``n``, without the count: a noun before a list, or a verb after a count.

    Parameters
    ----------
    n : int
        The count the word agrees with.
    word : str
        The singular (a noun, or a verb's third person singular: ``is``, ``does``, ``names``).
    plural_form : str, optional
        The plural when it is not :func:`plural` of ``word`` (verbs: ``are``, ``do``, ``name``).

    Examples
    --------
    >>> in_number(1, "column"), in_number(2, "column"), in_number(1, "is", "are"), in_number(3, "is", "are")
    ('column', 'columns', 'is', 'are')
    """
    return word if n == 1 else (plural_form or plural(word))
