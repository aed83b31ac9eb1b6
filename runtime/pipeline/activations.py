"""Numerically safe activation functions shared by the model stages."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow for large-magnitude logits (dtype preserved)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))
