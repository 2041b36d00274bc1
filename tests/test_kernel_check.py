"""The batch's kernel check: a plain kernel spec is found without jupyter_client, with its answer.

:func:`reportkit.run.preflight.plain_kernel_spec` stands in for jupyter_client's
``KernelSpecManager().get_kernel_spec`` on the common case (docs/batch.md, "Library internals
we replace"): wherever it says True, jupyter_client finds the same kernel; everything else is
asked of jupyter_client, so a missing kernel is refused as before.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from reportkit.core.errors import KernelNotFoundError
from reportkit.run.preflight import KERNEL_NAME, check_kernel, plain_kernel_spec

PLAIN = {
    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    "display_name": "X",
    "language": "python",
}

CASES = {
    "plain": PLAIN,
    "plain_with_env_and_interrupt_mode": {
        **PLAIN,
        "env": {"A": "1"},
        "interrupt_mode": "Message",
        "metadata": {"debugger": True},
    },
    "named_provisioner": {**PLAIN, "metadata": {"kernel_provisioner": {"provisioner_name": "no-such-provisioner"}}},
    "local_provisioner_named": {**PLAIN, "metadata": {"kernel_provisioner": {"provisioner_name": "local-provisioner"}}},
    "argv_not_text": {**PLAIN, "argv": [1, 2]},
    "no_argv": {"display_name": "X"},
    "unknown_field": {**PLAIN, "colour": "red"},
    "env_not_an_object": {**PLAIN, "env": None},
    "bad_interrupt_mode": {**PLAIN, "interrupt_mode": "kill"},
    "not_an_object": ["argv"],
}


def _jupyter_client_finds(name: str) -> bool:
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    except Exception:  # a kernel.json jupyter_client cannot read: not "surely found"
        return False
    return True


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_kernel_spec_found_without_jupyter_client_is_one_jupyter_client_finds(case, tmp_path, monkeypatch):
    folder = tmp_path / "kernels" / f"Case-{case}"  # another case than the name asked: found in any case
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(CASES[case]), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    name = f"case-{case}".lower()
    assert _jupyter_client_finds(name) or not plain_kernel_spec(name)
    assert plain_kernel_spec(name) == (case in ("plain", "plain_with_env_and_interrupt_mode"))


def test_a_kernel_json_that_is_not_json_is_left_to_jupyter_client(tmp_path, monkeypatch):
    (tmp_path / "kernels" / "broken").mkdir(parents=True)
    (tmp_path / "kernels" / "broken" / "kernel.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert not plain_kernel_spec("broken")


def test_the_first_folder_of_the_name_decides_as_it_does_for_jupyter_client(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    for root, spec in ((first, CASES["named_provisioner"]), (second, PLAIN)):
        (root / "kernels" / "k").mkdir(parents=True)
        (root / "kernels" / "k" / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", f"{first}:{second}")
    assert not plain_kernel_spec("k")  # jupyter_client reads a's, whose provisioner is missing
    assert not _jupyter_client_finds("k")


def test_a_missing_kernel_is_still_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert not plain_kernel_spec("no-such-kernel")
    with pytest.raises(KernelNotFoundError, match="no-such-kernel") as info:
        check_kernel("no-such-kernel")
    assert "make kernel" in info.value.hint


def test_checking_the_installed_reportkit_kernel_does_not_import_jupyter_client():
    code = (
        "import sys; from reportkit.run.preflight import check_kernel, plain_kernel_spec; "
        f"check_kernel({KERNEL_NAME!r}); print(plain_kernel_spec({KERNEL_NAME!r}), 'jupyter_client' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]
