"""Training: seeding, the optimisation loop, evaluation and saving."""

from mtcsnn.training.loop import (
    EpochRecord,
    TrainConfig,
    TrainResult,
    evaluate,
    load_model,
    save_model,
    seed_everything,
    train,
)

__all__ = [
    "EpochRecord",
    "TrainConfig",
    "TrainResult",
    "evaluate",
    "load_model",
    "save_model",
    "seed_everything",
    "train",
]
