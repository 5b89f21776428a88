"""Sweeps on Optuna: one study, shared by any number of workers.

A sweep is an Optuna study whose trials each train the benchmark's network
with one set of values (:class:`mtcsnn.tuning.space.SweepConfig`) and
score it by the **validation** NRMSE at the end of training; the test split
is never looked at. The study lives in a database: by default an SQLite file
in the output folder, which workers on one machine share with no server;
with a PostgreSQL URL, workers on many machines share one study.

Trial budget
    The process that creates the study queues ``n_trials`` empty trials and
    then records the budget in the study. A worker takes a queued trial with
    an atomic update of its state (WAITING to RUNNING), so no trial runs
    twice, and stops when no queued trial is left and none is running. A
    process joining later with a larger ``n_trials`` queues the difference.
Crashed workers
    A running trial's worker writes a heartbeat to the database every
    ``heartbeat`` seconds. Before taking a trial, every worker marks the
    trials whose heartbeat is older than ``3 x heartbeat`` as failed and
    queues each again with the same values (up to :data:`MAX_RETRIES` times),
    so a killed worker loses only the trial it was running.
Failed trials
    A trial whose values make an invalid network, or whose validation NRMSE
    is not finite, is marked failed with the reason in its ``error``
    attribute; the sweep goes on.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import multiprocessing
import os
import socket
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.exceptions import DuplicatedStudyError, ExperimentalWarning
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from mtcsnn.benchmark import build_model, neuron_params
from mtcsnn.data.forecast import ForecastSplits, make_forecast_task
from mtcsnn.io import atomic_write_text, write_json
from mtcsnn.training.loop import EpochRecord, seed_everything, train
from mtcsnn.tuning.sampler import GridTPESampler
from mtcsnn.tuning.space import RATIOS, SweepConfig

log = logging.getLogger(__name__)

MAX_RETRIES = 2
"""How often a trial whose worker died is queued again."""

STALE_FACTOR = 3
"""A running trial is stale when its heartbeat is this many intervals old."""

SETUP_TIMEOUT = 120.0
"""Seconds a joining worker waits for the creator to queue the trials."""


def default_storage(out: Path) -> str:
    """The SQLite database ``OUT/study.db`` as a storage URL."""
    return f"sqlite:///{(Path(out) / 'study.db').resolve()}"


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and files."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as given
        return url


def open_storage(url: str, *, heartbeat: int = 10) -> RDBStorage:
    """Connect to the study database at ``url`` with heartbeats switched on.

    Parameters
    ----------
    url
        An SQLAlchemy URL: ``sqlite:///PATH`` or
        ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE``.
    heartbeat
        Seconds between a running trial's heartbeats (an int >= 1).

    Raises
    ------
    ValueError
        If the database cannot be reached or its driver is not installed.
    """
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, int) or heartbeat < 1:
        raise ValueError(f"heartbeat = {heartbeat!r} must be an int >= 1 (seconds)")
    shown = hide_password(url)
    url = _with_driver(url)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write-ahead logging lets readers and one writer work at once; the
        # setting is stored in the file. Busy workers wait up to a minute.
        with sqlite3.connect(path, timeout=60) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
        engine_kwargs["connect_args"] = {"timeout": 60}
    attempts = 5
    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                storage = RDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat,
                    grace_period=STALE_FACTOR * heartbeat,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                        max_retry=MAX_RETRIES
                    ),
                )
            if url.startswith("sqlite:"):
                _serialise_sqlite(storage.engine)
            return storage
        except ModuleNotFoundError as err:
            raise ValueError(
                f"storage {shown} needs the Python package {err.name}: "
                "pip install 'mtcsnn[sweep]'"
            ) from None
        except Exception as err:  # noqa: BLE001 - SQLAlchemy's errors vary by driver
            # Workers that start together race to create the tables; the
            # loser finds them on its next attempt.
            if attempt + 1 < attempts:
                time.sleep(0.5)
                continue
            text = str(err).strip()
            first = text.splitlines()[0] if text else repr(err)
            raise ValueError(f"cannot open storage {shown}: {first}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _serialise_sqlite(engine: Any) -> None:
    """Make every transaction on ``engine`` take SQLite's write lock first.

    Python's sqlite3 driver starts a transaction only at the first write, so
    two processes can both read a trial as queued and both claim it (or give
    two new trials one number). ``BEGIN IMMEDIATE`` makes each transaction
    wait for the others instead: the workers' database work runs one at a
    time, which costs little next to training.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    # Connections opened before the listeners existed are closed.
    engine.dispose()


def _with_driver(url: str) -> str:
    """A PostgreSQL URL without a driver gets psycopg2 (the ``sweep`` extra).

    SQLAlchemy 2.1 and later would take psycopg 3 for ``postgresql://``; the
    URL is kept as given when it names a driver or psycopg2 is missing.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            return url
        return f"postgresql+psycopg2://{rest}"
    return url


def make_sampler(config: SweepConfig, seed: int | None = None) -> GridTPESampler:
    """The grid-plus-TPE sampler of ``config``.

    ``seed`` seeds TPE and the grid's tie-breaks; workers that share a study
    should each get a different one (or ``None``), or they would propose the
    same values.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        tpe = optuna.samplers.TPESampler(
            n_startup_trials=config.tpe_startup_trials, constant_liar=True, seed=seed
        )
    return GridTPESampler(config.grid, tpe, seed=seed)


def make_pruner(config: SweepConfig) -> optuna.pruners.BasePruner:
    """A median pruner over the validation NRMSE, or none."""
    if config.pruning is None:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(
        n_startup_trials=config.pruning["startup_trials"],
        n_warmup_steps=config.pruning["warmup_epochs"],
    )


def prepare_study(
    config: SweepConfig,
    storage: RDBStorage,
    n_trials: int,
    *,
    timeout: float = SETUP_TIMEOUT,
) -> optuna.Study:
    """Create the study with ``n_trials`` queued trials, or join it.

    Joining checks that the study was made from the same configuration and
    queues more trials if ``n_trials`` exceeds its budget.

    Raises
    ------
    ValueError
        If the study exists with another configuration, or its creator never
        finished queueing its trials within ``timeout`` seconds.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0:
        raise ValueError(f"n_trials = {n_trials!r} must be an int >= 0")
    # As the storage gives it back: JSON, with tuples as lists.
    wanted = json.loads(json.dumps(config.to_dict()))
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=config.study,
            direction="minimize",
            sampler=make_sampler(config),
            pruner=make_pruner(config),
        )
    except DuplicatedStudyError:
        study = optuna.load_study(
            study_name=config.study,
            storage=storage,
            sampler=make_sampler(config),
            pruner=make_pruner(config),
        )
        deadline = time.monotonic() + timeout
        while "trials" not in study.user_attrs:
            if time.monotonic() > deadline:
                raise ValueError(
                    f"study {config.study!r} exists but its trials were never "
                    "queued (its creator stopped early?); delete it or use "
                    "another study name"
                ) from None
            time.sleep(0.5)
        if study.user_attrs.get("config") != wanted:
            raise ValueError(
                f"study {config.study!r} was made from another sweep "
                "configuration; use the same file or another study name"
            ) from None
        budget = study.user_attrs["trials"]
        if n_trials > budget:
            _queue(study, n_trials - budget)
            study.set_user_attr("trials", n_trials)
            log.info(
                "study %s: budget raised from %d to %d", config.study, budget, n_trials
            )
        return study
    study.set_user_attr("config", wanted)
    study.set_user_attr("objective", "validation NRMSE")
    _queue(study, n_trials)
    study.set_user_attr("trials", n_trials)
    log.info("study %s created with %d queued trials", config.study, n_trials)
    return study


def _queue(study: optuna.Study, count: int) -> None:
    for _ in range(count):
        study.enqueue_trial({}, skip_if_exists=False)


def _take_queued_trial(study: optuna.Study, storage: RDBStorage) -> int | None:
    """Claim a queued trial (WAITING to RUNNING, atomic); its id, or None."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(
                trial._trial_id, state=TrialState.RUNNING
            ):
                return trial._trial_id
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


class _Heartbeat:
    """Record a trial's heartbeat now and then every ``interval`` seconds."""

    def __init__(self, storage: RDBStorage, trial_id: int, interval: int) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._interval = interval
        self._stop = threading.Event()
        storage.record_heartbeat(trial_id)
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as err:  # noqa: BLE001 - keep beating after a hiccup
                log.warning("heartbeat of trial id %d failed: %s", self._trial_id, err)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def _fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def objective(
    trial: optuna.Trial,
    config: SweepConfig,
    splits: ForecastSplits,
) -> float:
    """Train one trial's network; return its final validation NRMSE.

    The validation NRMSE of every evaluation (``eval_every`` epochs) is
    reported to the pruner, which may stop the trial there (but not at the
    last epoch).

    Raises
    ------
    optuna.TrialPruned
        When the pruner stops the trial.
    """
    params = config.suggest(trial)
    bench = config.trial_config(params)
    if config.model == "mtc":
        p = neuron_params("mtc", bench.neuron["mtc"].params)
        trial.set_user_attr("tau_s/tau_m", float(p.tau_s) / float(p.tau_m))
        trial.set_user_attr("tau_us/tau_s", float(p.tau_us) / float(p.tau_s))
    seed_everything(config.seed)
    model = build_model(config.model, bench)

    def report(record: EpochRecord) -> None:
        if math.isfinite(record.val_nrmse):
            trial.report(record.val_nrmse, record.epoch)
            # A trial that has trained to the end is complete, whatever it scored.
            if record.epoch < bench.train.epochs and trial.should_prune():
                raise optuna.TrialPruned(
                    f"validation NRMSE {record.val_nrmse:.4g} at epoch {record.epoch}"
                )

    result = train(model, splits, bench.train, callback=report)
    return result.history[-1].val_nrmse


def run_worker(
    config: SweepConfig,
    storage: RDBStorage,
    *,
    worker: str | None = None,
    on_trial: Callable[[FrozenTrial], None] | None = None,
    poll: float = 1.0,
) -> int:
    """Run queued trials of the study until none is left; return how many.

    Parameters
    ----------
    config
        The sweep; the study must exist (:func:`prepare_study`).
    storage
        From :func:`open_storage`.
    worker
        Recorded in each trial's ``worker`` attribute (default
        ``HOST:PID``).
    on_trial
        Called with every trial this worker finished.
    poll
        Seconds between looks at the study while other workers still run
        trials.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    study = optuna.load_study(
        study_name=config.study,
        storage=storage,
        sampler=make_sampler(config, seed=None),
        pruner=make_pruner(config),
    )
    interval = storage.get_heartbeat_interval() or 10
    splits = make_forecast_task(config.bench.task)
    done = 0
    while True:
        _fail_stale_trials(study)
        trial_id = _take_queued_trial(study, storage)
        if trial_id is None:
            running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running:
                break
            # Another worker's trial may still fail and be queued again.
            time.sleep(poll)
            continue
        with _Heartbeat(storage, trial_id, interval):
            frozen = _run_trial(study, storage, trial_id, config, splits, worker)
        if frozen is None:
            continue
        done += 1
        if on_trial is not None:
            on_trial(frozen)
    log.info("worker %s: %d trials, no queued trial left", worker, done)
    return done


def _run_trial(
    study: optuna.Study,
    storage: RDBStorage,
    trial_id: int,
    config: SweepConfig,
    splits: ForecastSplits,
    worker: str,
) -> FrozenTrial | None:
    """Run and record one claimed trial; None if another worker took it over."""
    trial = optuna.Trial(study, trial_id)
    try:
        trial.set_user_attr("worker", worker)
        if trial.user_attrs.get("error") is not None:
            # A trial queued again carries the failed one's attributes.
            trial.set_user_attr("error", None)
        tick = time.perf_counter()
        try:
            value = objective(trial, config, splits)
        except optuna.TrialPruned as reason:
            log.info("trial %d pruned: %s", trial.number, reason)
            return study.tell(trial, state=TrialState.PRUNED)
        except (ValueError, RuntimeError, FloatingPointError) as err:
            return _fail(study, trial, f"{type(err).__name__}: {err}")
        except KeyboardInterrupt:
            # Stopped by the user: its values go back to the queue.
            _fail(study, trial, "interrupted")
            callback = storage.get_heartbeat_stale_trial_callback()
            if callback is not None:
                callback(study, storage.get_trial(trial_id))
            raise
        except BaseException as err:
            _fail(study, trial, f"{type(err).__name__}: {err}")
            raise
        trial.set_user_attr("train_seconds", time.perf_counter() - tick)
        if not math.isfinite(value):
            return _fail(study, trial, f"validation NRMSE is {value!r}")
        log.info("trial %d: validation NRMSE %.4f", trial.number, value)
        return study.tell(trial, value)
    except optuna.exceptions.UpdateFinishedTrialError:
        log.warning(
            "trial %d was taken for dead (no heartbeat for %d s) and queued again; "
            "this worker's result is dropped",
            trial.number,
            STALE_FACTOR * (storage.get_heartbeat_interval() or 0),
        )
        return None


def _fail(study: optuna.Study, trial: optuna.Trial, reason: str) -> FrozenTrial:
    reason = reason.strip().splitlines()[0] if reason.strip() else "failed"
    trial.set_user_attr("error", reason)
    log.warning("trial %d failed: %s", trial.number, reason)
    return study.tell(trial, state=TrialState.FAIL)


def budget_done(study: optuna.Study) -> int:
    """Trials of the budget that finished: complete, pruned or failed for good.

    A trial that failed because its worker died and was queued again does not
    count; its retry does.
    """
    trials = study.get_trials(deepcopy=False)
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    return sum(1 for t in trials if t.state.is_finished() and t.number not in retried)


def _worker_process(
    config: dict[str, Any], url: str, heartbeat: int, threads: int, level: int
) -> None:
    """Entry point of a worker started by :func:`run_sweep`."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    torch.set_num_threads(threads)
    try:
        run_worker(
            SweepConfig.from_dict(config), open_storage(url, heartbeat=heartbeat)
        )
    except KeyboardInterrupt:
        # The trial went back to the queue; the parent reports the interrupt.
        raise SystemExit(130) from None


def run_sweep(
    config: SweepConfig,
    out: Path,
    n_trials: int,
    *,
    storage: str | None = None,
    workers: int = 1,
    heartbeat: int = 10,
    progress: Callable[[int, int], None] | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Run a sweep with ``workers`` processes on this machine and report it.

    Parameters
    ----------
    config
        The sweep.
    out
        Output folder: ``study.db`` (unless ``storage`` is given),
        ``trials.csv``, ``best.json``, ``summary.json`` and the figures of
        :func:`export`.
    n_trials
        The study's budget of trials (over all workers, on all machines).
    storage
        A database URL shared with other machines; default ``OUT/study.db``.
    workers
        Worker processes to start here; with 1 the trials run in this
        process.
    heartbeat
        Seconds between heartbeats; a worker silent for three of them is
        taken for dead and its trial queued again.
    progress
        Called with ``(finished, budget)`` as trials finish.
    figures
        Write the figures (needs matplotlib).

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers = {workers!r} must be an int >= 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    url = storage or default_storage(out)
    rdb = open_storage(url, heartbeat=heartbeat)
    study = prepare_study(config, rdb, n_trials)
    budget = study.user_attrs["trials"]
    if progress is not None:
        progress(budget_done(study), budget)
    exit_codes = None
    if workers == 1:

        def finished(_: FrozenTrial) -> None:
            if progress is not None:
                progress(budget_done(study), budget)

        run_worker(config, rdb, on_trial=finished)
    else:
        context = multiprocessing.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // workers)
        level = logging.getLogger("mtcsnn").getEffectiveLevel()
        processes = [
            context.Process(
                target=_worker_process,
                args=(config.to_dict(), url, heartbeat, threads, level),
                name=f"mtcsnn-sweep-worker-{k}",
            )
            for k in range(workers)
        ]
        for process in processes:
            process.start()
        try:
            while any(p.is_alive() for p in processes):
                if progress is not None:
                    progress(budget_done(study), budget)
                for p in processes:
                    p.join(timeout=1.0 / workers)
        except KeyboardInterrupt:
            # The workers got the interrupt too: they queue their trials
            # again and stop; give them the time to.
            for p in processes:
                p.join(timeout=30)
            raise
        exit_codes = [p.exitcode for p in processes]
        for k, code in enumerate(exit_codes):
            if code != 0:
                log.warning("worker %d exited with status %s", k, code)
        if progress is not None:
            progress(budget_done(study), budget)
    return export(
        study,
        config,
        out,
        storage=url,
        figures=figures,
        extra={"worker_exit_codes": exit_codes},
    )


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """One row per trial: state, objective, values and bookkeeping.

    Columns: ``number``, ``state``, ``value`` (final validation NRMSE of a
    complete trial), ``last_epoch`` and ``last_val_nrmse`` (the last value
    reported to the pruner), ``param_NAME`` for every searched value, the
    resulting ``tau_s/tau_m`` and ``tau_us/tau_s`` (MTC), ``worker``
    (``HOST:PID``), ``retry_of`` and ``retried_as`` (a trial whose worker died
    and the trial that ran its values again), ``seconds`` and ``error``.
    """
    trials = study.get_trials(deepcopy=False)
    names: list[str] = []
    retried_as: dict[int, int] = {}
    for t in trials:
        for name in t.params:
            if name not in names:
                names.append(name)
        history = t.system_attrs.get("retry_history", [])
        if history:
            retried_as[history[-1]] = t.number
    rows = []
    for t in trials:
        last = max(t.intermediate_values) if t.intermediate_values else None
        history = t.system_attrs.get("retry_history", [])
        error = t.user_attrs.get("error")
        if error is None and t.number in retried_as:
            error = "its worker stopped (no heartbeat); its values ran again"
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value if t.state == TrialState.COMPLETE else None,
                "last_epoch": last,
                "last_val_nrmse": None if last is None else t.intermediate_values[last],
                **{f"param_{n}": t.params.get(n) for n in names},
                **{r: t.user_attrs.get(r) for r in RATIOS},
                "worker": t.user_attrs.get("worker"),
                "retry_of": history[-1] if history else None,
                "retried_as": retried_as.get(t.number),
                "seconds": (
                    (t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start
                    else None
                ),
                "error": error,
            }
        )
    return rows


def write_trials_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write :func:`trial_rows` as CSV (empty cells for missing values), atomically."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    atomic_write_text(path, buffer.getvalue())


def export(
    study: optuna.Study,
    config: SweepConfig,
    out: Path,
    *,
    storage: str | None = None,
    figures: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the study's results into ``out``.

    * ``trials.csv``: every trial (:func:`trial_rows`);
    * ``best.json``: the best complete trial's benchmark configuration, which
      ``mtcsnn bench --config`` reads (only if a trial completed);
    * ``summary.json``: counts by state, the best trial, parameter
      importances and the sweep configuration;
    * with ``figures``: ``objective.png`` (objective per trial),
      ``importances.png`` and ``timescales.png`` (best objective over the two
      timescale ratios, MTC only).

    ``extra`` is added to the summary.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study)
    write_trials_csv(out / "trials.csv", rows)
    states = {s.name: 0 for s in TrialState}
    for row in rows:
        states[row["state"]] += 1
    summary: dict[str, Any] = {
        "study": config.study,
        "storage": hide_password(storage) if storage else None,
        "objective": "validation NRMSE (final epoch)",
        "budget": study.user_attrs.get("trials"),
        "finished": budget_done(study),
        "states": states,
        "best": None,
        "importances": None,
        "config": config.to_dict(),
        **(extra or {}),
    }
    complete = [
        t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE
    ]
    if complete:
        best = min(complete, key=lambda t: t.value)
        best_config = config.trial_config(best.params)
        write_json(out / "best.json", best_config.to_dict())
        summary["best"] = {
            "number": best.number,
            "value": best.value,
            "params": best.params,
        }
        summary["importances"] = importances(study)
    write_json(out / "summary.json", summary)
    if figures:
        _figures(out, rows, summary, config)
    return summary


def importances(study: optuna.Study) -> dict[str, float] | None:
    """Optuna's parameter importances (PED-ANOVA), or None if too few trials."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)
            result = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError) as err:
        log.info("no parameter importances: %s", err)
        return None
    return {k: float(v) for k, v in result.items()}


def _figures(out: Path, rows, summary, config: SweepConfig) -> None:
    try:
        from mtcsnn import plotting
        from mtcsnn.tuning import plots

        plotting._pyplot()
    except ImportError:
        log.warning("matplotlib is not installed: no figures written")
        return
    plotting.save(plots.plot_objective(rows), str(out / "objective.png"))
    if summary["importances"]:
        plotting.save(
            plots.plot_importances(summary["importances"]), str(out / "importances.png")
        )
    if config.model == "mtc":
        plotting.save(plots.plot_timescales(rows), str(out / "timescales.png"))


__all__ = [
    "MAX_RETRIES",
    "budget_done",
    "default_storage",
    "export",
    "importances",
    "make_pruner",
    "make_sampler",
    "objective",
    "open_storage",
    "prepare_study",
    "run_sweep",
    "run_worker",
    "trial_rows",
]
