"""`evaluate` module for document-level relation extraction: a thin wrapper of :func:`paee_hf.metrics.evaluate`.

Load it offline from the installed package (never from the Hub)::

    import evaluate
    from paee_hf.metrics import EVALUATE_MODULE_PATH

    metric = evaluate.load(EVALUATE_MODULE_PATH)

One row per gold document: ``predictions`` is the list of facts predicted for that document (each may carry its
``evidence`` sentence ids), ``references`` the document itself as a JSON string (DocRED documents are too irregular
for an Arrow schema: extra mention fields, ragged lists).
"""

import json
import numbers

import datasets
import evaluate

from paee_hf import metrics

PREDICTION_KEYS = ("h_idx", "t_idx", "r")
OPTIONAL_PREDICTION_KEYS = ("evidence",)
ALLOWED_PREDICTION_KEYS = frozenset(PREDICTION_KEYS + OPTIONAL_PREDICTION_KEYS)

_DESCRIPTION = """\
DocRED-style document-level relation extraction scores, computed exactly as paee_hf.metrics.evaluate (the official
DocRED evaluation logic): F1 and Ign F1 over (title, h_idx, t_idx, r) facts, supporting-evidence F1, the NA vs non-NA
pair decision ("Rela": precision, recall, F1, accuracy), intra-/inter-sentence and long-distance (> 5 sentences) F1, the
binary positive-class F1 used for CDR/GDA and a per-relation table. Scores are fractions in [0, 1].
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list per document of predicted facts {"h_idx": int, "t_idx": int, "r": str} with optionally
        "evidence": [sentence ids] (no other keys; the title comes from the aligned reference). Facts without
        evidence predict no evidence sentence, as in the official scorer; evidence_* are 0.0 when none has any.
    references: one DocRED document per row as a JSON string (json.dumps(document)) with title, vertexSet, labels.
    train_facts: optional (name_h, name_t, r) triples for Ign F1 (paee_hf.metrics.load_train_facts).
    train_documents: optional labelled training documents for Ign F1 (instead of train_facts).
    relation_names: optional relation id -> name mapping for the per-relation table.
    positive_relation: optional relation scored as positive_* (binary F1, e.g. "CID" on CDR).
Returns:
    The dict of paee_hf.metrics.evaluate: precision, recall, f1, ign_precision, ign_f1, evidence_*, rela_precision,
    rela_recall, rela_f1, rela_accuracy, intra_*, inter_*, long_*, positive_* (when defined), num_* counts and
    per_relation.
Examples:
    >>> metric = evaluate.load(paee_hf.metrics.EVALUATE_MODULE_PATH)
    >>> paris, france = [{"name": "Paris", "sent_id": 0}], [{"name": "France", "sent_id": 0}]
    >>> document = {"title": "Doc", "vertexSet": [paris, france], "labels": [{"h": 0, "t": 1, "r": "P17"}]}
    >>> metric.compute(predictions=[[{"h_idx": 0, "t_idx": 1, "r": "P17"}]], references=[json.dumps(document)])["f1"]
    1.0
"""

_CITATION = """\
@inproceedings{yao-etal-2019-docred,
    title = "{D}oc{RED}: A Large-Scale Document-Level Relation Extraction Dataset",
    author = "Yao, Yuan and Ye, Deming and Li, Peng and Han, Xu and Lin, Yankai and Liu, Zhenghao and Liu, Zhiyuan and
              Huang, Lixin and Zhou, Jie and Sun, Maosong",
    booktitle = "Proceedings of the 57th Annual Meeting of the Association for Computational Linguistics",
    year = "2019",
}
@inproceedings{huang-etal-2022-paee,
    title = "Document-Level Relation Extraction via Pair-Aware and Entity-Enhanced Representation Learning",
    author = "Huang, Xiusheng and Yang, Hang and Chen, Yubo and Zhao, Jun and Liu, Kang and Sun, Weijian and
              Zhao, Zuyu",
    booktitle = "Proceedings of the 29th International Conference on Computational Linguistics",
    year = "2022",
}
"""


def _check_prediction_rows(predictions, first_row: int = 0) -> None:
    """Name the row and record whose keys differ from the schema (evaluate itself would raise a bare KeyError)."""
    for row, facts in enumerate(predictions or [], start=first_row):
        if not isinstance(facts, (list, tuple)):
            raise ValueError(f"predictions[{row}] must be the list of facts predicted for document {row}")
        for index, fact in enumerate(facts):
            if not isinstance(fact, dict) or not set(PREDICTION_KEYS) <= set(fact) <= ALLOWED_PREDICTION_KEYS:
                found = sorted(fact) if isinstance(fact, dict) else type(fact).__name__
                raise ValueError(
                    f"predictions[{row}][{index}] must have the keys {list(PREDICTION_KEYS)} and optionally "
                    f"{list(OPTIONAL_PREDICTION_KEYS)} (the title comes from references[{row}]), got {found}"
                )
            evidence = fact.get("evidence")
            if evidence is not None and not (
                isinstance(evidence, (list, tuple))
                and all(isinstance(sent, numbers.Integral) and not isinstance(sent, bool) and sent >= 0
                        for sent in evidence)
            ):
                raise ValueError(
                    f"predictions[{row}][{index}]: 'evidence' must be a list of non-negative sentence ids, "
                    f"got {evidence!r}"
                )


def _with_evidence_column(predictions):
    """The rows with ``evidence: None`` on facts that carry none: the Arrow schema has the column on every fact (and
    evaluate's type check fails on a missing key); None keeps "no evidence given" apart from ``[]``."""
    if predictions is None:
        return None
    return [[{"evidence": None, **fact} for fact in facts] for facts in predictions]


def _without_missing_evidence(fact: dict) -> dict:
    """A stored fact as the CodaLab record fields, without the evidence column where the fact carried none."""
    return {key: value for key, value in fact.items() if key != "evidence" or value is not None}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DocredRelationExtraction(evaluate.Metric):
    """DocRED relation extraction metrics (module name ``docred_relation_extraction``)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.List(
                        {
                            "h_idx": datasets.Value("int64"),
                            "t_idx": datasets.Value("int64"),
                            "r": datasets.Value("string"),
                            "evidence": datasets.List(datasets.Value("int64")),
                        }
                    ),
                    "references": datasets.Value("string"),
                }
            ),
            reference_urls=["https://github.com/thunlp/DocRED"],
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Check the prediction records, then store the batch (``compute`` stores its inputs through this too)."""
        _check_prediction_rows(predictions, first_row=len(self))
        super().add_batch(predictions=_with_evidence_column(predictions), references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Check one document's prediction records, then store it."""
        _check_prediction_rows([prediction] if prediction is not None else None, first_row=len(self))
        if prediction is not None:
            prediction = _with_evidence_column([prediction])[0]
        super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(
        self,
        predictions: list[list[dict]],
        references: list[str],
        train_facts=None,
        train_documents=None,
        relation_names=None,
        positive_relation=None,
    ) -> dict:
        """Decode the references, give every prediction its document's title and call the pure function."""
        gold_documents = []
        for index, reference in enumerate(references):
            try:
                document = json.loads(reference)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"references[{index}] is not valid JSON ({error}); pass json.dumps(document)"
                ) from None
            if not isinstance(document, dict) or not isinstance(document.get("title"), str):
                raise ValueError(
                    f"references[{index}] must encode a DocRED document (a JSON object with a string title), "
                    f"got {reference[:80]!r}"
                )
            gold_documents.append(document)
        records = [
            {"title": document["title"], **_without_missing_evidence(fact)}
            for document, facts in zip(gold_documents, predictions)
            for fact in facts
        ]
        return metrics.evaluate(
            records,
            gold_documents,
            train_documents,
            train_facts=train_facts,
            relation_names=relation_names,
            positive_relation=positive_relation,
        )
