"""Dependency floors: each lower bound in pyproject.toml is the oldest release the code works with.

A floor is the higher of two things, both recorded below:

- the release that introduced the newest API the code uses from that distribution (``RECORD[...].apis``, each with a
  release whose source has it; the API that sets the floor also names the release before, whose source lacks it);
- what another floor requires (transformers 5.20.0 declares ``huggingface-hub>=1.31.0``, ``tokenizers>=0.23.1``,
  ``safetensors>=0.8.0``, and for torch ``torch>=2.6`` and ``accelerate>=1.1.0``): lower floors cannot be installed
  beside it, or are not supported by it.

The releases were read with ``pip download --no-deps PACKAGE==VERSION`` (source of the wheel, and its METADATA for
``Requires-Dist``). Installing every floor in CI would take minutes, so these tests keep the record honest instead:

- pyproject's floors equal the record, and each floor is the one its record implies;
- every recorded API exists in the installed release (a renamed or removed API fails here);
- the record lists exactly the names the package takes from these distributions, so a new API fails the test until
  the release that introduced it is looked up and the floor raised where needed;
- the installed versions satisfy the floors.

Behaviour at the floors together was checked once by hand: a virtual environment with exactly these floors (and
datasets 4.0.0's pins dill 0.3.8, multiprocess 0.70.16, fsspec 2025.3.0; torch stayed at the installed release) passed
the data, model, training, evaluation, Hub and CLI tests. Calls' keyword arguments are not covered by the scan.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Floor:
    """The floor of one distribution and the evidence for it.

    Attributes:
        floor: The lower bound pyproject.toml must declare.
        module: Its import name.
        apis: Dotted API the code uses -> a release at or below the floor whose source has it.
        binding: The API that sets the floor, and the release before the floor, whose source lacks it.
        required_by: The other floor's requirement that sets this floor instead (``None`` when an API sets it).
    """

    floor: str
    module: str
    apis: dict[str, str] = field(default_factory=dict)
    binding: tuple[str, str] | None = None
    required_by: str | None = None


RECORD: dict[str, Floor] = {
    "transformers": Floor("5.20.0", "transformers",
                          binding=("transformers.configuration_utils.SubConfigSpec", "5.19.0"), apis={
        # dataclass configs declared with sub_configs_defaults / SubConfigSpec (PaeeConfig's encoder_config)
        "transformers.configuration_utils.SubConfigSpec": "5.20.0",
        "transformers.PreTrainedConfig": "5.0.0",  # transformers 4 spelt it PretrainedConfig
        "transformers.AutoConfig": "5.0.0",
        "transformers.AutoModel": "5.0.0",
        "transformers.AutoTokenizer": "5.0.0",
        "transformers.PreTrainedModel": "5.0.0",
        "transformers.PreTrainedTokenizerBase": "5.20.0",
        "transformers.AttentionInterface": "5.20.0",
        "transformers.Pipeline": "5.20.0",
        "transformers.pipeline": "5.20.0",  # the "hf:" recognizer's token-classification pipeline
        "transformers.get_linear_schedule_with_warmup": "5.20.0",
        "transformers.pipelines.PIPELINE_REGISTRY": "5.20.0",
        "transformers.masking_utils.AttentionMaskInterface": "5.20.0",
        "transformers.masking_utils.sdpa_mask": "5.20.0",
        "transformers.integrations.sdpa_attention.sdpa_attention_forward": "5.20.0",
        "transformers.dynamic_module_utils.custom_object_save": "5.20.0",
        "transformers.utils.ModelOutput": "5.20.0",
        "transformers.utils.cached_file": "5.20.0",
        "transformers.utils.logging.tqdm": "5.20.0",
        "transformers.utils.logging": "5.20.0",
    }),
    "datasets": Floor("4.0.0", "datasets", binding=("datasets.List", "3.6.0"), apis={
        "datasets.List": "4.0.0",  # feature_schema; 3.x had only Sequence
        "datasets.Dataset": "4.0.0",
        "datasets.DatasetDict": "4.0.0",
        "datasets.Features": "4.0.0",
        "datasets.Value": "4.0.0",
        "datasets.load_dataset": "4.0.0",
        "datasets.load_from_disk": "4.0.0",
        "datasets.exceptions.DatasetNotFoundError": "3.6.0",
    }),
    "huggingface-hub": Floor("1.31.0", "huggingface_hub", required_by="transformers 5.20.0: huggingface-hub>=1.31.0",
                             apis={
        "huggingface_hub.HfApi": "1.31.0",
        "huggingface_hub.ModelCard": "1.31.0",
        "huggingface_hub.ModelCardData": "1.31.0",
        "huggingface_hub.EvalResult": "1.31.0",
        "huggingface_hub.errors.GatedRepoError": "1.31.0",
        "huggingface_hub.errors.HFValidationError": "1.31.0",
        "huggingface_hub.errors.RepositoryNotFoundError": "1.31.0",
        "huggingface_hub.errors.RevisionNotFoundError": "1.31.0",
    }),
    "accelerate": Floor("1.1.0", "accelerate", required_by="transformers 5.20.0 [torch]: accelerate>=1.1.0", apis={
        "accelerate.Accelerator": "1.1.0",
        "accelerate.PartialState": "1.1.0",
        "accelerate.logging.get_logger": "1.1.0",
        "accelerate.utils.DistributedType": "1.1.0",
        "accelerate.utils.ProjectConfiguration": "1.1.0",
        "accelerate.utils.broadcast_object_list": "1.1.0",
        "accelerate.utils.gather_object": "1.1.0",
        "accelerate.utils.is_tensorboard_available": "1.1.0",
        "accelerate.utils.set_seed": "1.1.0",
    }),
    "evaluate": Floor("0.2.0", "evaluate", binding=("evaluate.Metric", "0.1.2"), apis={
        "evaluate.Metric": "0.2.0",  # 0.1.x kept it in evaluate.metric only
        "evaluate.MetricInfo": "0.2.0",
        "evaluate.utils.file_utils.add_start_docstrings": "0.2.0",
    }),
    "tokenizers": Floor("0.23.1", "tokenizers", required_by="transformers 5.20.0: tokenizers>=0.23.1,<0.24.0"),
    "safetensors": Floor("0.8.0", "safetensors", required_by="transformers 5.20.0: safetensors>=0.8.0"),
    "torch": Floor("2.6", "torch", required_by="transformers 5.20.0 [torch]: torch>=2.6"),
}


def declared_floors() -> dict[str, Version]:
    """pyproject.toml's dependencies -> their ``>=`` bound (``None`` where there is none)."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        bounds = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
        floors[requirement.name] = bounds[0] if bounds else None
    return floors


def resolve(dotted: str):
    """The object a dotted API name points at (module attributes, importing submodules on the way)."""
    parts = dotted.split(".")
    target = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        if not hasattr(target, part):
            target = importlib.import_module(".".join(parts[: index + 1]))
        else:
            target = getattr(target, part)
    return target


def used_apis(modules: set[str]) -> set[str]:
    """Every ``module.name`` the package takes from ``modules``: ``from m.sub import x`` gives ``m.sub.x``;
    ``import m`` and then ``m.a.b`` gives the chain down to the first object that is not a module."""
    found: set[str] = set()
    for path in (REPO / "paee_hf").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in modules:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):  # "import a.b" binds "a"; "import a.b as c" binds "c" to a.b
                aliases.update({alias.asname or alias.name.split(".")[0]: alias.name if alias.asname
                                else alias.name.split(".")[0] for alias in node.names
                                if alias.name.split(".")[0] in modules})
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):  # inner chains of a.b.c reduce to the same API
                chain = []
                current = node
                while isinstance(current, ast.Attribute):
                    chain.append(current.attr)
                    current = current.value
                if isinstance(current, ast.Name) and current.id in aliases:
                    api = _first_non_module(aliases[current.id], list(reversed(chain)))
                    found.update([api] if api else [])
    return found


def _first_non_module(module: str, attributes: list[str]) -> str | None:
    """``module.a.b...`` cut after the first attribute that is not a module; ``None`` when all of them are."""
    dotted = module
    for attribute in attributes:
        dotted = f"{dotted}.{attribute}"
        if not inspect.ismodule(resolve(dotted)):
            return dotted
    return None


def test_pyproject_floors_are_the_recorded_ones():
    declared = declared_floors()
    assert {name: declared.get(name) for name in RECORD} == {name: Version(r.floor) for name, r in RECORD.items()}


@pytest.mark.parametrize("name", sorted(RECORD))
def test_each_floor_is_the_one_its_evidence_implies(name):
    record = RECORD[name]
    floor = Version(record.floor)
    assert all(Version(version) <= floor for version in record.apis.values()), "an API newer than the floor"
    assert (record.binding is None) != (record.required_by is None), "a floor needs exactly one reason"
    if record.binding is not None:
        api, absent_in = record.binding
        assert Version(record.apis[api]) == floor and Version(absent_in) < floor


@pytest.mark.parametrize("name", sorted(RECORD))
def test_installed_release_satisfies_the_floor_and_has_every_recorded_api(name):
    record = RECORD[name]
    assert Version(importlib.metadata.version(name)) >= Version(record.floor)
    for api in record.apis:
        resolve(api)  # raises for a renamed or removed API


def test_the_record_lists_exactly_the_apis_the_package_takes_from_these_distributions():
    recorded = {api for record in RECORD.values() for api in record.apis}
    used = used_apis({record.module for record in RECORD.values() if record.apis})
    assert used - recorded == set(), "APIs without a recorded first release"
    assert recorded - used == set(), "recorded APIs the code no longer uses"
