"""Test-wide settings."""

import os

import torch

# Tiny models gain nothing from intra-op threads, and on a busy 2-core machine the thread pool's spin-waits make each
# small matmul ~100x slower. PAEE_TEST_THREADS raises it for the real-backbone tests when the machine is idle.
torch.set_num_threads(int(os.environ.get("PAEE_TEST_THREADS", "1")))

# the tiny prediction checkpoint (module-scoped fixtures `model_dir` and `model`)
from prediction_fixtures import model, model_dir  # noqa: E402, F401
