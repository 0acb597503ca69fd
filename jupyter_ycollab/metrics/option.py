"""The ``metrics`` option of ``YCollabApp``, and turning the metrics on or off with it.

Apart from options.py, as the cluster's options are: a plain ``HasTraits`` base of the app,
so that the option is set and listed as ``c.YCollabApp.metrics``.
"""

from __future__ import annotations

from traitlets import Bool, HasTraits

from . import OFF, Metrics, use
from .export import CensusTaker, export, stop_counting, unexport


class MetricsOption(HasTraits):
    """The metrics option of ``YCollabApp`` (docs/metrics.md)."""

    metrics = Bool(
        True,
        config=True,
        help="Export collaboration metrics (rooms, peers, updates, saves, the update logs, "
        "refusals...: docs/metrics.md) on the server's /metrics, which the server's "
        "authenticate_prometheus setting guards. False: nothing is counted or exported.",
    )

    _census: CensusTaker | None = None

    def _start_metrics(self) -> None:
        """Count from now on (afresh), or not at all when the option is off."""
        use(Metrics() if self.metrics else OFF)
        if not self.metrics:
            unexport()

    def _export_metrics(self, census: CensusTaker) -> None:
        """Serve the metrics on ``/metrics``, counting what is open with ``census``."""
        self._census = census
        if self.metrics:
            export(census)

    def _stop_metrics(self) -> None:
        """The rooms are closed: a later scrape counts none of them (counters stay)."""
        if self._census is not None:
            stop_counting(self._census)
