"""``mtcsnn regimes``: run the firing-regime presets and map the regimes.

Each preset (tonic, phasic, bursting, adapting, silent, blocked) is a neuron
and a current step that shows its regime; the neuron starts at rest at the
holding current. Writes into ``--out``:

* ``regimes.json``: per preset, the classifier's label, the regime it was
  built to show, the features behind the label, the step protocol and every
  parameter used; then the classifier's thresholds;
* ``regime_map.json``: the regime of the reference neuron (or ``--preset``)
  on a grid of step currents against one parameter (``--parameter``), all
  simulated in one batch: values, currents, labels ``[values][currents]``;
* ``gallery.png`` and ``regime_map.png`` (if matplotlib is installed): each
  preset's voltage trace and I-V curves, and the coloured map.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from mtcsnn.analysis import REGIME_PRESETS, regime_map
from mtcsnn.analysis import regimes as regimes_module
from mtcsnn.analysis.regimes import MAP_CURRENTS, MAP_PROTOCOL, MAP_VALUES
from mtcsnn.cli.common import (
    PRESET_NAMES,
    finite_float,
    grid,
    positive_float,
    preset_params,
    write_json,
)

log = logging.getLogger(__name__)

THRESHOLDS = (
    "ONSET_FRACTION",
    "BURST_GAP_FACTOR",
    "MIN_BURST_SPIKES",
    "ADAPTATION_THRESHOLD",
    "LATE_FRACTION",
    "BLOCK_VOLTAGE",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "regimes",
        help="firing-regime presets, their gallery and a regime map",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default="reference",
        help="base neuron of the regime map",
    )
    parser.add_argument(
        "--parameter", default="alpha_us", help="parameter swept on the map's y axis"
    )
    parser.add_argument(
        "--values",
        type=grid,
        default=MAP_VALUES,
        metavar="START:STOP:COUNT",
        help="values of --parameter (or a comma-separated list); default 0:3.5:15",
    )
    parser.add_argument(
        "--currents",
        type=grid,
        default=MAP_CURRENTS,
        metavar="START:STOP:COUNT",
        help="step currents of the map (or a list); default -3:1.5:19; write "
        "--currents=-3:1.5:19 when the value starts with '-'",
    )
    parser.add_argument(
        "--hold",
        type=finite_float,
        default=MAP_PROTOCOL.hold,
        help="holding current of the map, where every neuron must rest",
    )
    parser.add_argument(
        "--t-end",
        type=positive_float,
        default=MAP_PROTOCOL.t_end,
        help="duration of the map's simulations (step onset at 200)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    protocol = dataclasses.replace(MAP_PROTOCOL, hold=args.hold, t_end=args.t_end)
    base = preset_params(args.preset, {})
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    grid_map = regime_map(
        base,
        parameter=args.parameter,
        values=args.values,
        currents=args.currents,
        protocol=protocol,
    )
    write_json(
        out / "regime_map.json",
        {
            "preset": args.preset,
            "parameter": grid_map.parameter,
            "values": grid_map.values.tolist(),
            "currents": grid_map.currents.tolist(),
            "labels": grid_map.labels.tolist(),
            "protocol": {
                k: v
                for k, v in dataclasses.asdict(grid_map.protocol).items()
                if k != "current"
            },
        },
    )
    counts = {k: int((grid_map.labels == k).sum()) for k in regimes_module.REGIMES}
    print(
        f"map: {grid_map.labels.size} neurons, "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    )

    runs = {}
    report = {}
    for name, preset in REGIME_PRESETS.items():
        response, regime = preset.run()
        runs[name] = (preset.params, response, regime)
        report[name] = {
            "label": regime.label,
            "expected": preset.regime,
            "features": regime.features.as_dict(),
            "protocol": dataclasses.asdict(preset.protocol),
            "description": preset.description,
            "params": {
                f.name: float(getattr(preset.params, f.name))
                for f in dataclasses.fields(preset.params)
            },
        }
        mark = "" if regime.label == preset.regime else f"  (built as {preset.regime})"
        f = regime.features
        print(f"{name:>9}: {regime.label:<9} {f.n_spikes:4d} spikes{mark}")
    write_json(
        out / "regimes.json",
        {
            "presets": report,
            "thresholds": {k: getattr(regimes_module, k) for k in THRESHOLDS},
        },
    )

    written = ["regimes.json", "regime_map.json"]
    written += _plots(out, runs, grid_map, args.preset)
    print("wrote " + ", ".join(str(out / name) for name in written))
    return 0


def _plots(out: Path, runs, grid_map, preset: str) -> list[str]:
    try:
        from mtcsnn import plotting

        plt = plotting._pyplot()
    except ImportError:
        log.warning("matplotlib is not installed: no plots written")
        return []
    axes = plotting.plot_regime_gallery(runs)
    plotting.save(axes[0, 0].figure, str(out / "gallery.png"))
    _, ax = plt.subplots(figsize=(8, 5))
    plotting.plot_regime_map(grid_map, ax=ax)
    ax.set_title(
        f"{preset} neuron, step from I = {grid_map.protocol.hold:g}", fontsize="medium"
    )
    plotting.save(ax, str(out / "regime_map.png"))
    return ["gallery.png", "regime_map.png"]
