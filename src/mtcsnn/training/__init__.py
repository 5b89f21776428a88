"""Training: seeding, the optimisation loop, checkpoints, evaluation and saving."""

from mtcsnn.training.loop import (
    EpochRecord,
    Interrupted,
    NonFiniteError,
    TrainConfig,
    TrainingStopped,
    TrainResult,
    evaluate,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
    seed_everything,
    train,
)

__all__ = [
    "EpochRecord",
    "Interrupted",
    "NonFiniteError",
    "TrainConfig",
    "TrainResult",
    "TrainingStopped",
    "evaluate",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "save_model",
    "seed_everything",
    "train",
]
