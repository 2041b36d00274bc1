"""Stress: many forked kernels started at once, to catch one dying before it is ready and say why.

Starts ``--warm`` warm processes (:class:`reportkit.run.kernels.WarmProcess`, each in a process of
its own, as a batch's report workers have), then ``--rounds`` times starts ``--per`` kernels from
each of them at the same moment (threads, one :class:`~reportkit.run.kernels.WarmKernelManager`
and client per kernel), waits for each to be ready and shuts it down. Every kernel that dies before
it is ready is printed with its death report (exit code or signal, the last lines of its stderr,
:meth:`~reportkit.run.kernels.WarmForkProvisioner.death_report`); at the end the count of starts and
deaths.

Run: ``.venv/bin/python benchmarks/stress_kernel_starts.py [--warm 3] [--per 2] [--rounds 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile


async def _one(cwd: str) -> str | None:
    from reportkit.run import kernels

    km = kernels.WarmKernelManager(kernel_name="reportkit")
    try:
        await km.start_kernel(cwd=cwd, extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
        finally:
            kc.stop_channels()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await km.shutdown_kernel(now=True)


def _worker(per: int, rounds: int, cwd: str, queue: multiprocessing.Queue) -> None:
    from reportkit.run import kernels

    kernels.start_warm_process()

    async def go() -> None:
        for _ in range(rounds):
            for error in await asyncio.gather(*(_one(cwd) for _ in range(per))):
                queue.put(error)

    asyncio.run(go())
    queue.put("done")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", type=int, default=3, help="warm processes (report workers)")
    ap.add_argument("--per", type=int, default=2, help="kernels started at once from each")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args(argv)
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as cwd:
        procs = [ctx.Process(target=_worker, args=(args.per, args.rounds, cwd, queue)) for _ in range(args.warm)]
        for p in procs:
            p.start()
        starts = deaths = done = 0
        while done < len(procs):
            msg = queue.get()
            if msg == "done":
                done += 1
                continue
            starts += 1
            if msg is not None:
                deaths += 1
                print(msg, flush=True)
        for p in procs:
            p.join()
    print(f"{starts} kernel starts, {deaths} died before they were ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
