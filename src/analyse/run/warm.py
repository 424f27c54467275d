"""Warm kernels: one Jupyter kernel kept alive, running report after report.

Half of a cold report is a kernel starting and importing pandas, geopandas and
matplotlib again. A batch worker keeps one kernel instead and runs each report in it
through Papermill (the ``analyse-chaud`` engine below), after resetting what a report
leaves behind: its variables (``%reset -f``), its figures, the warnings filters and the
matplotlib settings it changed, and the execution counter. A kernel that fails, hangs
past the timeout or grows past a memory bound is replaced, and the report retried once
on a fresh kernel; a report that crashes its kernel thus costs only itself.

The kernel side of the reset (``snapshot``/``reset``) lives in this module too, so that
it survives ``%reset -f`` (which empties the user namespace, not ``sys.modules``).
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from analyse import config

ENGINE_NAME = "analyse-chaud"
# A report takes seconds; a cell still running after this has hung.
CELL_TIMEOUT_S = 300
# A kernel whose resident memory passes this after a report is replaced.
MAX_KERNEL_RSS_MIB = 768

# Imports paid once per kernel, while it starts (IPython's exec_lines, run before the
# kernel says it is ready): a CLI that launches its kernel first reads its data meanwhile.
WARM_UP = "import analyse.run.warm; analyse.run.warm.warm_up()"
RESET = "import analyse.run.warm\nanalyse.run.warm.reset()\n"

# --- kernel side -------------------------------------------------------------------

_SAVED: dict = {}


def warm_up() -> None:
    """Import what the report notebook imports, then remember the fresh state."""
    import matplotlib.pyplot as plt
    from IPython.display import HTML, Markdown, display  # noqa: F401

    from analyse.analysis import bundle  # noqa: F401

    # The inline backend is chosen at the first figure: choose it before the snapshot.
    plt.close(plt.figure())
    snapshot()


def snapshot() -> None:
    """Remember the state a fresh kernel has (run in the kernel, once)."""
    import warnings

    import matplotlib

    _SAVED["rc"] = dict(matplotlib.rcParams)
    _SAVED["filters"] = list(warnings.filters)


def reset() -> None:
    """Give the next report the state of a fresh kernel (run in the kernel)."""
    import gc
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    shell = get_ipython()
    # What ``%reset -f`` does (the user namespace, In/Out, the output cache), in a new
    # history session: the execution counter starts again at 1 as in a fresh kernel,
    # and the history database does not see the same line numbers twice.
    shell.reset(new_session=True)
    plt.close("all")
    matplotlib.rcParams.clear()
    matplotlib.rcParams.update(_SAVED["rc"])
    warnings.filters[:] = _SAVED["filters"]
    warnings._filters_mutated()  # forget which warnings were already shown
    gc.collect()


# --- worker side -------------------------------------------------------------------


class KernelFailure(RuntimeError):
    """The kernel died, hung or could not be reset: it must be replaced."""


def _register_engine() -> None:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmEngine(NBClientEngine):
        """Papermill engine that runs the notebook in a kernel it is given."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            warm=None,
            **kwargs,
        ):
            from papermill.engines import logger

            client = PapermillNotebookClient(
                nb_man,
                km=warm.km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client.kc = warm.kc  # the kernel and its channels outlive this notebook
            return client.execute()

    papermill_engines.register(ENGINE_NAME, WarmEngine)


class WarmKernel:
    """One kernel of a worker, reused from report to report."""

    def __init__(
        self,
        kernel_name: str,
        max_rss_mib: float = MAX_KERNEL_RSS_MIB,
        timeout: float = CELL_TIMEOUT_S,
    ) -> None:
        self.kernel_name = kernel_name
        self.max_rss_mib = max_rss_mib
        self.timeout = timeout
        self._owner = None  # the nbclient client that started (and will stop) the kernel
        self._connected = False
        self.started = 0  # kernels started so far, for tests and the bench
        self.peak_rss_mib = 0.0
        _register_engine()

    @property
    def km(self):
        return self._owner.km

    @property
    def kc(self):
        return self._owner.kc

    def launch(self) -> None:
        """Start the kernel process without waiting for it (it imports meanwhile)."""
        import nbformat
        from nbclient import NotebookClient

        owner = NotebookClient(
            nbformat.v4.new_notebook(),
            kernel_name=self.kernel_name,
            startup_timeout=120,
            extra_arguments=[f"--IPKernelApp.exec_lines={WARM_UP}"],
        )
        owner.km = owner.create_kernel_manager()
        # The kernel speaks to us through its channels; its own stdout and stderr would
        # only bring noise, such as the traceback of a kernel stopped while it starts
        # because the command refused its input meanwhile.
        owner.start_new_kernel(
            cwd=str(config.NOTEBOOKS_DIR), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._owner = owner
        self._connected = False
        self.started += 1

    def start(self) -> None:
        self.launch()
        self.connect()

    def connect(self) -> None:
        """Wait until the launched kernel (and its imports) is ready."""
        if not self._connected:
            self._owner.start_new_kernel_client()
            self._connected = True

    def stop(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            # A kernel being thrown away: how it ends is not worth a failure.
            with contextlib.suppress(Exception):
                owner._cleanup_kernel()

    def replace(self) -> None:
        self.stop()
        self.start()

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self._owner is not None and bool(run_sync(self.km.is_alive)())

    def rss_mib(self) -> float:
        """Resident memory of the kernel process, read from /proc (Linux)."""
        pid = getattr(self.km.provisioner, "pid", None)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, TypeError):
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _run_hidden(self, code: str, timeout: float | None = None) -> None:
        """Run ``code`` in the kernel without counting it as a cell of any notebook."""
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        cell = nbformat.v4.new_code_cell(code)
        client = NotebookClient(
            nbformat.v4.new_notebook(cells=[cell]),
            km=self.km,
            timeout=timeout or self.timeout,
            kernel_name=self.kernel_name,
        )
        client.kc = self.kc
        try:
            with client.setup_kernel():
                client.execute_cell(cell, 0, store_history=False)
        except (CellExecutionError, RuntimeError, TimeoutError) as error:
            raise KernelFailure(str(error)) from error

    def execute(self, notebook: Path, output: Path, parameters: dict) -> None:
        """Execute ``notebook`` with ``parameters`` into ``output`` in the warm kernel.

        Any failure replaces the kernel and retries once on a fresh one; the second
        failure is raised (a Papermill error, or ``KernelFailure``).
        """
        for attempt in (1, 2):
            try:
                self._execute_once(notebook, output, parameters)
            except Exception:
                self.stop()  # whatever state the kernel is in, it is not trusted again
                if attempt == 2:
                    raise
                continue
            self.peak_rss_mib = max(self.peak_rss_mib, self.rss_mib())
            if self.rss_mib() > self.max_rss_mib:
                self.stop()  # the next report starts a fresh kernel
            return

    def _execute_once(self, notebook: Path, output: Path, parameters: dict) -> None:
        import papermill

        if self._owner is not None and not self._connected:
            self.connect()  # launched ahead by the caller: its first report, nothing to reset
        elif self._owner is None or not self.alive():
            self.stop()
            self.start()
        else:
            self._run_hidden(RESET)
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            engine_name=ENGINE_NAME,
            kernel_name=self.kernel_name,
            language="python",
            progress_bar=False,
            execution_timeout=self.timeout,
            request_save_on_cell_execute=False,
            warm=self,
        )
