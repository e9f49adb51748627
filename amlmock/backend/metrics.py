"""Metrics: batches of values under the service's limits, one series per metric name."""

from __future__ import annotations

from dataclasses import dataclass

from . import limits, messages
from .changes import MetricRow
from .errors import NotFoundError, ServiceError, ValidationError
from .locking import locked
from .metric_series import MetricSeries, MetricValue
from .models import Run, new_id
from .times import utcnow
from .paging import decode_offset, encode_offset
from .state import BackendState
from .values import MetricBatch, MetricInput

VALUES_PER_PAGE = 1000


@dataclass
class MetricError:
    """A metric the service refused in a batch (``position``: its place in the batch), with the reason."""

    position: int
    name: str
    error: ServiceError


@dataclass
class MetricPage:
    """One page of a metric's values, and the token of the next page (None on the last)."""

    series: MetricSeries
    values: list[MetricValue]
    continuation_token: str | None


class MetricOperations(BackendState):
    """The metrics of runs."""

    @locked
    def post_metrics(self, run: Run, batch: MetricBatch) -> list[MetricError]:
        """Store a batch of metrics; returns the metrics refused one by one."""
        if batch.row_count > limits.MAX_METRIC_ROWS_PER_BATCH:
            raise ValidationError(
                messages.too_many_metric_rows(limits.MAX_METRIC_ROWS_PER_BATCH, batch.row_count), target="values"
            )
        errors: list[MetricError] = []
        for position, metric in batch.metrics:
            try:
                self._store_metric(run, metric)
            except ValidationError as error:
                errors.append(MetricError(position, metric.name, error))
        return errors

    def _store_metric(self, run: Run, metric: MetricInput) -> None:
        name = metric.name
        _check_metric(metric)
        series = run.metrics.get(name)
        if series is None and len(run.metrics) >= limits.MAX_METRIC_NAMES_PER_RUN:
            raise ValidationError(messages.too_many_metric_names(run.run_id, limits.MAX_METRIC_NAMES_PER_RUN, name), target=name)
        if series is None:
            series = MetricSeries(name, dict(metric.columns), metric.ux_type)
            run.add_metric(series)
        else:
            series.columns.update(metric.columns)
        self._changes.run(run)
        for row in metric.rows:
            metric_id = row.metric_id or new_id()
            logged_at = row.logged_at if row.logged_at is not None else utcnow().timestamp()
            data = dict(row.data)
            if series.add(metric_id, logged_at, row.step, data):  # a repeated id is stored once
                self._changes.metric(MetricRow(run, name, metric_id, logged_at, row.step, data))

    @locked
    def get_metric(self, run: Run, name: str) -> MetricSeries:
        """One metric of the run, or NotFoundError."""
        series = run.metrics.get(name)
        if series is None:
            raise NotFoundError(messages.metric_not_found(name, run.run_id), target="metricName")
        return series

    @locked
    def metric_page(self, run: Run, name: str, token: str | None) -> MetricPage:
        """One page of a metric's values, in logging order."""
        series = self.get_metric(run, name)
        start = decode_offset(token)
        end = start + VALUES_PER_PAGE
        return MetricPage(series, series.read(start, end), encode_offset(end) if end < len(series) else None)

    @locked
    def metric_names(self, run: Run) -> list[str]:
        """The names of the run's metrics, in the order they were first logged."""
        return list(run.metrics)

    @locked
    def list_metrics(self, run: Run) -> list[MetricSeries]:
        """The run's metrics, in the order they were first logged."""
        return list(run.metrics.values())

    @locked
    def read_metrics(self, run: Run) -> dict[str, list[MetricValue]]:
        """Every metric of the run: name -> its values in logging order."""
        return {name: series.read() for name, series in run.metrics.items()}


def _check_metric(metric: MetricInput) -> None:
    """A metric's name, columns and text cells within the service's limits."""
    name = metric.name
    limits.check_length("metric name", name, limits.MAX_METRIC_COLUMN_LENGTH)
    if len(metric.columns) > limits.MAX_METRIC_COLUMNS:
        raise ValidationError(messages.too_many_columns(name, limits.MAX_METRIC_COLUMNS), target=name)
    for column in metric.columns:
        limits.check_length(f"column name of metric {name!r}", column, limits.MAX_METRIC_COLUMN_LENGTH)
    for row in metric.rows:
        for column, cell in row.data.items():
            if isinstance(cell, str):
                limits.check_length(f"value of column {column!r} of metric {name!r}", cell, limits.MAX_METRIC_COLUMN_LENGTH)
