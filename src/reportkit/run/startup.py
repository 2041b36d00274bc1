"""What reportkit's own processes do first: leave out an import that costs a second and serves no report.

Called by the processes reportkit starts and owns -- the ``reportkit`` command
(:func:`reportkit.cli.main`) and each report worker (:func:`worker_init`, the pool's
initializer: this module imports nothing heavy, so unpickling it in a new worker runs
this before anything imports nbformat) -- never on import, so a caller's process (a
notebook calling ``run_batch``) keeps its state.
"""

from __future__ import annotations

import signal
import sys

__all__ = ["skip_iri_grammar", "worker_init"]


def skip_iri_grammar() -> None:
    """Keep jsonschema from loading its optional IRI checker (``rfc3987_syntax``) in this process.

    nbformat validates notebooks with jsonschema, which on import loads
    ``rfc3987_syntax`` when it is installed (jupyter-events' ``jsonschema[format-nongpl]``
    brings it); that module builds a Lark grammar on import: 1.2-1.6 s of CPU in every
    process that reads a notebook, about a third of a batch's start-up. Only the
    ``iri`` / ``iri-reference`` string formats use it, and no notebook schema has
    them, so notebooks validate exactly as before. Does nothing once jsonschema is
    imported (its checkers are then fixed) or when the module is already loaded.
    """
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # `import` raises ImportError: skipped


def worker_init(*args: object) -> None:
    """A report worker's initializer: ignore ^C, :func:`skip_iri_grammar`, then :func:`reportkit.run.local._worker_init`.

    ^C is ignored before anything is imported: a worker spends a second or more of its
    start importing nbformat, Papermill and the renderers, and a ^C there raised
    ``KeyboardInterrupt`` in the initializer, which the pool printed ("Exception in
    initializer" and its traceback) before the batch's own message. The batch process
    alone decides what an interrupt means (``docs/batch.md``, "Workers, like kernels, ignore the terminal's ^C").
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    skip_iri_grammar()
    from .timeline import span

    with span("worker start"):
        from .local import _worker_init  # imports nbformat: after the line above

        _worker_init(*args)  # type: ignore[arg-type]
