"""Random and malformed configurations are refused in one line that names the key.

Every entry point is fed: ``BenchConfig.from_dict``, a config file given to
``mtcsnn bench`` and ``mtcsnn train``, the ``run.json`` that ``--resume``
reads, and the command-line flags.
"""

import contextlib
import copy
import io
import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtcsnn.benchmark import PRESETS, BenchConfig, RunSpec
from mtcsnn.cli import main

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

BASE = json.loads(json.dumps(PRESETS["smoke"].to_dict()))

INTS = {
    "task.horizon": (1, None),
    "task.window": (1, None),
    "task.warmup": (0, None),
    "task.discard": (0, None),
    "task.train": (1, None),
    "task.validation": (1, None),
    "task.test": (1, None),
    "train.epochs": (1, None),
    "train.batch_size": (1, None),
    "train.eval_every": (1, None),
    "train.seed": (0, 2**32 - 1),
    "train.max_bad_steps": (1, None),
    "n_hidden": (1, None),
    "n_layers": (1, None),
    "order": (1, 10),
}
"""Integer keys of a benchmark config and their documented ranges."""

FLOATS = {
    "train.lr": (0.0, 1.0, True, False),
    "train.lr_final_ratio": (0.0, 1.0, True, False),
    "train.clip": (0.0, None, True, False),
    "cutoff": (0.0, 0.5, True, True),
}
"""Float keys: low, high, whether each bound is excluded."""

SECTIONS = {"": BASE, "task": BASE["task"], "train": BASE["train"]}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
not_numbers = (
    st.text(max_size=8)
    | st.booleans()
    | st.none()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


def _bad_int(path: str):
    low, high = INTS[path]
    wrong_type = not_numbers | st.floats()
    below = st.integers(max_value=low - 1)
    out = wrong_type | below
    if high is not None:
        out |= st.integers(min_value=high + 1)
    if path == "task.warmup":  # must stay below the window
        out |= st.integers(min_value=BASE["task"]["window"], max_value=10**6)
    if path == "task.train":  # must hold a window after the horizon
        need = BASE["task"]["horizon"] + BASE["task"]["window"]
        out |= st.integers(min_value=low, max_value=need - 1)
    return out


def _bad_float(path: str):
    low, high, low_open, high_open = FLOATS[path]
    out = not_numbers | st.sampled_from([math.nan, math.inf, -math.inf])
    out |= st.floats(max_value=low, exclude_max=not low_open)
    if high is not None:
        out |= st.floats(min_value=high, exclude_min=not high_open)
    return out


bad_models = (
    st.text(max_size=8)
    | st.integers()
    | st.none()
    | st.just([])
    | st.lists(st.integers(), min_size=1, max_size=2)
    | st.lists(
        st.text(max_size=6).filter(lambda t: t not in ("mtc", "lif", "adlif")),
        min_size=1,
        max_size=2,
    )
    | st.just(["mtc", "mtc"])
)


PATHS = [
    *sorted(INTS),
    *sorted(FLOATS),
    "models",
    "task",
    "train",
    "unknown:",
    "unknown:task",
    "unknown:train",
]
"""What a mutation breaks: a key, a whole section, or an extra key in a section."""


@st.composite
def mutations(draw, path: str):
    """A valid config with ``path`` made invalid; returns (data, key, kind)."""
    data = copy.deepcopy(BASE)
    if path.startswith("unknown:"):
        section = path.partition(":")[2]
        name = draw(
            st.text(st.characters(codec="ascii"), min_size=1, max_size=12).filter(
                lambda t: t not in SECTIONS[section]
            )
        )
        target = data[section] if section else data
        target[name] = draw(json_values)
        return data, f"{section}.{name}" if section else name, "unknown"
    if path in INTS:
        value = draw(_bad_int(path))
    elif path in FLOATS:
        value = draw(_bad_float(path))
    elif path == "models":
        value = draw(bad_models)
    else:
        value = draw(not_numbers.filter(lambda v: not isinstance(v, dict)))
    *parents, leaf = path.split(".")
    target = data
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    return data, path, "value"


def _assert_names(message: str, path: str, kind: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    if kind == "unknown":
        assert f"unknown key {path!r}; allowed: " in message
    else:
        assert f"{path} = " in message
        assert (
            "is out of range: must be" in message
            or "has the wrong type: must be" in message
        )


@pytest.mark.parametrize("target", PATHS)
@settings(max_examples=30, deadline=None)
@given(source=st.data())
def test_from_dict_refuses_each_bad_entry_by_name(target, source):
    data, path, kind = source.draw(mutations(target))
    with pytest.raises(ValueError) as err:
        BenchConfig.from_dict(data)
    _assert_names(str(err.value), path, kind)


@SETTINGS
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "task": st.fixed_dictionaries(
                    {}, optional={k: json_values for k in BASE["task"]}
                )
                | json_values,
                "train": st.fixed_dictionaries(
                    {}, optional={k: json_values for k in BASE["train"]}
                )
                | json_values,
                **{k: json_values for k in BASE if k not in ("task", "train")},
            },
        ),
    )
)
def test_random_configs_are_accepted_exactly_or_refused_in_one_line(data):
    try:
        config = BenchConfig.from_dict(data)
    except ValueError as err:
        message = str(err)
        assert message and "\n" not in message
        assert "must be" in message or "unknown key" in message
        return
    # Accepted: every given value is used as given, and it round-trips.
    assert isinstance(data, dict)
    for key in ("n_hidden", "n_layers", "order"):
        if key in data:
            assert getattr(config, key) == data[key]
    if "models" in data:
        assert list(config.models) == list(data["models"])
    assert BenchConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def _run(argv: list[str]) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return status, stderr.getvalue()


@pytest.mark.parametrize("target", PATHS)
@settings(max_examples=6, deadline=None)
@given(source=st.data(), command=st.sampled_from(["bench", "train"]))
def test_commands_refuse_a_bad_config_file_in_one_line(target, source, command):
    data, path, kind = source.draw(mutations(target))
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "config.json"
        file.write_text(json.dumps(data))
        out = Path(folder) / "out"
        model = ["--model", "lif"] if command == "train" else []
        status, err = _run([command, *model, "--config", str(file), "--out", str(out)])
        assert status == 2
        assert err.startswith(f"mtcsnn {command}: error: {file}: ")
        assert err.count("\n") == 1
        _assert_names(err.strip(), path, kind)
        assert not out.exists()


@settings(max_examples=60, deadline=None)
@given(source=st.data())
def test_resume_refuses_a_bad_run_file_in_one_line(source):
    data, path, kind = source.draw(st.sampled_from(PATHS).flatmap(mutations))
    spec = json.loads(json.dumps(RunSpec("lif", 0, PRESETS["smoke"]).to_dict()))
    spec["bench"] = data
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder)
        (run / "run.json").write_text(json.dumps(spec))
        status, err = _run(["train", "--resume", str(run)])
        assert status == 2 and err.count("\n") == 1
        _assert_names(err.strip(), f"bench.{path}", kind)
        assert sorted(p.name for p in run.iterdir()) == ["run.json"]


def test_malformed_files_are_refused_in_one_line(tmp_path):
    cases = {
        "not json": "{'task': 1}",
        "duplicate key": '{"n_hidden": 8, "n_hidden": 9}',
        "nested too deeply": "[" * 100_000 + "]" * 100_000,
        "not UTF-8": b"\xff\xfe{}",
        "missing": None,
    }
    for name, content in cases.items():
        file = tmp_path / f"{name}.json"
        if isinstance(content, bytes):
            file.write_bytes(content)
        elif content is not None:
            file.write_text(content)
        status, err = _run(
            ["bench", "--config", str(file), "--out", str(tmp_path / "o")]
        )
        assert status == 2, name
        assert err.startswith("mtcsnn bench: error: ") and err.count("\n") == 1, name
        assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


INT_FLAGS = {
    "bench": {
        "--seeds": (1, 2**32),
        "--epochs": (1, None),
        "--checkpoint-every": (1, None),
    },
    "train": {
        "--seed": (0, 2**32 - 1),
        "--epochs": (1, None),
        "--checkpoint-every": (1, None),
    },
}
CHOICE_FLAGS = {
    "bench": {"--preset": sorted(PRESETS), "--models": ["mtc", "lif", "adlif"]},
    "train": {"--preset": sorted(PRESETS), "--model": ["mtc", "lif", "adlif"]},
}


def _parses_as_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


FLAG_CASES = [
    (command, flag)
    for command in ("bench", "train")
    for flag in [*INT_FLAGS[command], *CHOICE_FLAGS[command], "unknown"]
]


@st.composite
def bad_flags(draw, command: str, flag: str):
    """An invalid ``--flag=value`` for ``command``; returns (flag, argument, kind)."""
    if flag in INT_FLAGS[command]:
        low, high = INT_FLAGS[command][flag]
        bad = st.text(max_size=10).filter(lambda t: not _parses_as_int(t))
        bad |= st.integers(max_value=low - 1).map(str)
        if high is not None:
            bad |= st.integers(min_value=high + 1).map(str)
        return flag, f"{flag}={draw(bad)}", "int"
    if flag in CHOICE_FLAGS[command]:
        choices = CHOICE_FLAGS[command][flag]
        value = draw(st.text(max_size=10).filter(lambda t: t not in choices))
        return flag, f"{flag}={value}", "choice"
    name = draw(st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8))
    return f"--x-{name}", f"--x-{name}", "unknown"


@pytest.mark.parametrize(("command", "target"), FLAG_CASES)
@settings(max_examples=15, deadline=None)
@given(source=st.data())
def test_commands_refuse_bad_flags_in_one_line(command, target, source):
    flag, argument, kind = source.draw(bad_flags(command, target))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        model = ["--model", "lif"] if command == "train" and flag != "--model" else []
        status, err = _run([command, *model, argument, "--out", str(out)])
        assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert not out.exists()
    if kind == "unknown":
        assert f"unrecognized arguments: {flag}" in err
    elif kind == "int":
        assert f"argument {flag}: must be an int" in err
    else:
        assert f"argument {flag}: invalid choice: " in err
