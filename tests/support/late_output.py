"""An nbconvert preprocessor that runs a notebook like ``--execute`` and also
keeps the outputs a kernel sends after a cell's ``idle`` status.

Deno 2.9's kernel sometimes publishes a cell's result (``execute_result``,
``display_data``, the last lines of ``stream``) just after the ``idle``
status that ends the cell. nbclient stops listening for a cell at that status
and drops what comes later, so a notebook run headless loses some outputs at
random. This preprocessor keeps listening for ``late_output_timeout`` seconds
of quiet after ``idle``, and files every message under the cell it belongs to
(its parent header). Everything else is nbclient's.

Used by ``tests/examples/notebook_test.ts``::

    PYTHONPATH=tests/support jupyter nbconvert --to notebook \\
      --NotebookExporter.preprocessors=late_output.LateOutputExecutePreprocessor \\
      examples/quickstart_local.ipynb --output /tmp/out.ipynb
"""

import queue

from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Bool, Float


class LateOutputExecutePreprocessor(ExecutePreprocessor):
    """``ExecutePreprocessor`` that waits for outputs sent after ``idle``."""

    enabled = Bool(True).tag(config=True)

    late_output_timeout = Float(
        1.0,
        help="Seconds of quiet to wait for more output after a cell's idle status.",
    ).tag(config=True)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        assert self.kc is not None
        complete = False
        while True:
            try:
                msg = await ensure_async(
                    self.kc.iopub_channel.get_msg(
                        timeout=self.late_output_timeout if complete else None
                    )
                )
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                # Raises CellExecutionComplete at the idle status.
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                complete = True
