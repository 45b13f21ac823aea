"""Drives one Deno kernel through cells as a notebook user does, including
interrupting a cell mid-run, which ``nbconvert`` cannot do.

Reads ``{"steps": [...]}`` as JSON on stdin and prints, as JSON on stdout,
one entry per step: ``{"outputs": [...], "restarted": bool, "left": [...]}``.
A step is ``{"code": str}``, optionally with ``"interrupt_on": str``: when the
cell's output contains that text, the kernel is interrupted as Jupyter's stop
button does (SIGINT to the kernel's process group), and then restarted as
Jupyter does after a kernel died (Deno 2.9's kernel dies of the interrupt,
denoland/deno#24491), with its state lost; ``"gone": str`` then waits (up to
30 s) until no process's command line contains that text, and ``left`` lists
those that stay. Every message is filed under the cell it belongs to (its
parent header), and a cell's outputs are read until a second of quiet after
its ``idle`` status, as ``late_output.py`` does, where updates of displays
(the progress of a run going on between cells) do not break the quiet.

Used by ``tests/support/notebook.ts``; the kernelspec comes from
``JUPYTER_PATH`` and the kernel's environment is this process's.
"""

import json
import os
import queue
import sys
import time

from jupyter_client import KernelManager


def output(msg):
    """The output of an iopub message, as nbformat writes it, or None."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "stream":
        return {"output_type": "stream", "name": content["name"], "text": [content["text"]]}
    if kind in ("execute_result", "display_data", "update_display_data"):
        out = {"output_type": kind, "data": {k: [v] for k, v in content["data"].items()
                                             if isinstance(v, str)}}
        display_id = content.get("transient", {}).get("display_id")
        if display_id:
            out["display_id"] = display_id
        return out
    if kind == "error":
        return {"output_type": "error", "ename": content["ename"], "evalue": content["evalue"],
                "text": ["\n".join(content["traceback"])]}
    return None


def text_of(out):
    return "".join(out.get("text", [])) + "".join(
        "".join(v) for v in out.get("data", {}).values())


def run_cell(km, kc, step):
    """Runs one cell; returns its outputs and whether the kernel was interrupted."""
    msg_id = kc.execute(step["code"])
    outputs, idle, interrupted = [], False, False
    deadline = time.monotonic() + step.get("timeout", 300)
    # After idle, the cell ends after a second without other output than
    # updates of displays: a run that goes on between cells updates its
    # progress every second, under the parent header of the cell running now.
    quiet_until = None
    while True:
        if quiet_until is not None and time.monotonic() >= quiet_until:
            return outputs, interrupted
        wait = 1 if quiet_until is None else max(0.01, quiet_until - time.monotonic())
        try:
            msg = kc.get_iopub_msg(timeout=wait)
        except queue.Empty:
            if idle:
                return outputs, interrupted
            if interrupted and not km.is_alive():
                return outputs, interrupted
            if time.monotonic() > deadline:
                raise TimeoutError(f"cell did not end: {step['code'][:200]}")
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                idle = True
                quiet_until = time.monotonic() + 1
            continue
        out = output(msg)
        if out is None:
            continue
        outputs.append(out)
        if idle and msg["msg_type"] != "update_display_data":
            quiet_until = time.monotonic() + 1
        if not interrupted and step.get("interrupt_on") and step["interrupt_on"] in text_of(out):
            km.interrupt_kernel()
            interrupted = True
            # The kernel's end (or the cell's idle status) ends the cell.
            deadline = time.monotonic() + 30


def holders(text):
    """The processes whose command line contains text."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def main():
    steps = json.load(sys.stdin)["steps"]
    km = KernelManager(kernel_name="deno")
    km.start_kernel(env=dict(os.environ))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    results = []
    try:
        for step in steps:
            outputs, interrupted = run_cell(km, kc, step)
            result = {"outputs": outputs, "restarted": False}
            if interrupted:
                kc.stop_channels()
                km.restart_kernel(now=True)
                kc = km.client()
                kc.start_channels()
                kc.wait_for_ready(timeout=120)
                result["restarted"] = True
                if step.get("gone"):
                    deadline = time.monotonic() + 30
                    while holders(step["gone"]) and time.monotonic() < deadline:
                        time.sleep(0.1)
                    result["left"] = holders(step["gone"])
            results.append(result)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
