"""The one prediction path: model.predict, the pipeline (lists, streams, no trust_remote_code), vectorised decoding,
options, batching, remote loading, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from prediction_fixtures import RAW_DOCUMENT, TEXT
from tiny_models import scaled_timeout
from transformers import pipeline

from paee_hf import (
    DocumentRelationExtractionPipeline,
    PaeeConfig,
    PaeeForDocumentRelationExtraction,
    decode_relations,
)
from paee_hf.data import DocumentValidationError
from paee_hf.data.facts import facts_from_predictions
from paee_hf.prediction import DecodingOptions, RelationPredictor, ScoredBatch, as_documents
from paee_hf.raw_text import from_raw_text


def test_predict_raw_text_returns_ranked_named_facts(model):
    [facts] = model.predict(RAW_DOCUMENT)
    assert facts, "the biased classifier predicts some relations"
    assert [fact["score"] for fact in facts] == sorted((fact["score"] for fact in facts), reverse=True)
    names = ["John Smith", "Paris", "France", "Acme Corp"]
    for fact in facts:
        assert set(fact) == {"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}
        assert fact["head"] == names[fact["h_idx"]] and fact["tail"] == names[fact["t_idx"]]
        assert fact["relation"] == {"P17": "country", "P19": "place of birth", "P108": "employer"}[fact["r"]]
        assert 0.5 < fact["score"] < 1.0


def test_predict_agrees_with_forward_and_decoding(model):
    [facts] = model.predict(RAW_DOCUMENT)
    predictor = RelationPredictor(model, model.get_tokenizer())  # run the same batch by hand
    feature = predictor.featurize(as_documents(RAW_DOCUMENT))[0]
    batch = predictor.collator([feature])
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k not in ("titles", "doc_indices", "entity_order")}).logits
    decoded = decode_relations(logits)[0]
    expected = {
        (h, t, model.config.id2label[r])
        for p, (h, t) in enumerate(feature["pair_indices"])
        for r in range(1, model.config.num_labels)
        if decoded[p, r]
    }
    assert {(f["h_idx"], f["t_idx"], f["r"]) for f in facts} == expected


def test_threshold_top_k_and_all_scores(model):
    [default] = model.predict(RAW_DOCUMENT)
    [loose] = model.predict(RAW_DOCUMENT, threshold=0.01)
    [strict] = model.predict(RAW_DOCUMENT, threshold=0.99)
    assert len(loose) == 12 * 3 and len(strict) < len(default) <= len(loose)
    [only_p17] = model.predict(RAW_DOCUMENT, threshold={"P19": 0.99, "P108": 0.99, "P17": 0.01})
    assert {fact["r"] for fact in only_p17} == {"P17"}
    [one_each] = model.predict(RAW_DOCUMENT, threshold=0.01, top_k=1)
    assert len(one_each) == 12 and len({(f["h_idx"], f["t_idx"]) for f in one_each}) == 12
    [every_pair] = model.predict(RAW_DOCUMENT, return_all_scores=True)
    assert len(every_pair) == 12 and set(every_pair[0]["scores"]) == {"P17", "P19", "P108"}
    with pytest.raises(ValueError, match=r"threshold names relations the model does not have: \['P999'\]"):
        model.predict(RAW_DOCUMENT, threshold={"P999": 0.4})
    with pytest.raises(ValueError, match=r"threshold must be a number in \(0, 1\)"):
        model.predict(RAW_DOCUMENT, threshold=1.5)


def test_batching_does_not_change_predictions(model):
    words = TEXT.split()
    more_entities_than_matrix_size = {  # 10 > 8: its own canvas must not become its batch-mates'
        "title": "many entities", "sents": [words],
        "vertexSet": [[{"name": words[i], "pos": [i, i + 1], "sent_id": 0, "type": "LOC"}] for i in range(0, 19, 2)],
    }
    documents = [RAW_DOCUMENT, {**RAW_DOCUMENT, "title": "short", "text": TEXT[:37], "entities": RAW_DOCUMENT[
        "entities"][:2]}, more_entities_than_matrix_size, RAW_DOCUMENT]
    one_by_one = model.predict(documents, batch_size=1, return_all_scores=True)
    together = model.predict(documents, batch_size=4, return_all_scores=True)
    assert len(together[2]) == 10 * 9
    for single, batched in zip(one_by_one, together):
        assert [(f["h_idx"], f["t_idx"]) for f in single] == [(f["h_idx"], f["t_idx"]) for f in batched]
        for a, b in zip(single, batched):
            assert a["scores"] == pytest.approx(b["scores"], abs=1e-5)


def test_docred_documents_and_long_documents(model):
    words = TEXT.split()
    docred = {
        "title": "as DocRED", "sents": [words[:6], words[6:12], words[12:]],
        "vertexSet": [
            [{"name": "John Smith", "pos": [0, 2], "sent_id": 0, "type": "PER"}],
            [{"name": "Paris", "pos": [5, 6], "sent_id": 0, "type": "LOC"}],
        ],
    }
    [facts] = model.predict(docred, threshold=0.01)
    assert {(f["head"], f["tail"]) for f in facts} == {("John Smith", "Paris"), ("Paris", "John Smith")}
    long_document = {"text": " ".join([TEXT] * 12), "entities": RAW_DOCUMENT["entities"]}  # ~15 windows of 64
    [facts] = model.predict(long_document, threshold=0.01)
    assert len(facts) == 12 * 3


@pytest.mark.parametrize(
    "document, message",
    [
        ({"text": TEXT, "entities": []}, "entities"),
        ({"text": TEXT, "entities": [{"mentions": [{"start": 80, "end": 200}], "type": "PER"}]}, "outside"),
        ({"text": TEXT, "entities": [{"mentions": [{"start": 0, "end": 10}], "type": "PER"},
                                     {"mentions": [{"start": 5, "end": 12}], "type": "PER"}]}, "overlap"),
        ({"text": TEXT, "entities": [{"mentions": [{"start": 4, "end": 4}], "type": "PER"}]}, "empty"),
        ({"text": 42, "entities": [{"mentions": [{"start": 0, "end": 1}], "type": "PER"}]}, "text"),
        ({"text": TEXT, "entities": [{"mentions": [{"start": 0, "end": 4}], "type": "GPE"}]}, "GPE"),
        ({"sentence": TEXT}, "neither 'text' nor 'sents'"),
    ],
)
def test_bad_input_gets_a_clear_error(model, document, message):
    with pytest.raises(DocumentValidationError, match=message) as caught:
        model.predict(document)
    assert "document 0" in str(caught.value)


def test_pipeline_matches_predict(model):
    extractor = pipeline("document-relation-extraction", model=model, tokenizer=model.get_tokenizer())
    assert isinstance(extractor, DocumentRelationExtractionPipeline)
    assert extractor(RAW_DOCUMENT) == model.predict(RAW_DOCUMENT)[0]
    assert extractor([RAW_DOCUMENT, RAW_DOCUMENT], batch_size=2, threshold=0.2) == model.predict(
        [RAW_DOCUMENT, RAW_DOCUMENT], threshold=0.2
    )
    assert len(extractor(RAW_DOCUMENT, return_all_scores=True)) == 12


def test_saved_checkpoint_ships_the_pipeline(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["custom_pipelines"]["document-relation-extraction"]["impl"] == (
        "pipeline_paee.DocumentRelationExtractionPipeline"
    )
    assert (model_dir / "pipeline_paee.py").exists() and (model_dir / "featurizer.py").exists()
    assert (model_dir / "tokenizer.json").exists()


def test_remote_pipeline_without_the_package(model, model_dir, tmp_path):
    expected = model.predict(RAW_DOCUMENT)[0]
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["paee_hf"] = None  # any import of the package now fails
        import torch
        torch.set_num_threads({torch.get_num_threads()})
        from transformers import pipeline
        extractor = pipeline(model={str(model_dir)!r}, trust_remote_code=True)
        print(json.dumps(extractor(json.loads({json.dumps(json.dumps(RAW_DOCUMENT))}))))
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.strip().splitlines()[-1])
    assert [(f["h_idx"], f["t_idx"], f["r"]) for f in remote] == [(f["h_idx"], f["t_idx"], f["r"]) for f in expected]
    assert [f["score"] for f in remote] == pytest.approx([f["score"] for f in expected], abs=1e-6)


def assert_same_facts(actual, expected):
    """Same facts per document; scores equal up to float noise (batches of other sizes pad differently)."""
    actual, expected = list(actual), list(expected)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        keyed = {(f["h_idx"], f["t_idx"], f["r"], f["head"], f["tail"]): f["score"] for f in got}
        reference = {(f["h_idx"], f["t_idx"], f["r"], f["head"], f["tail"]): f["score"] for f in want}
        assert keyed.keys() == reference.keys()
        assert [keyed[key] for key in reference] == pytest.approx(list(reference.values()), abs=1e-5)


def reference_decode(documents, scored, thresholds, top_k, relation_labels):
    """Pair by pair, relation by relation, in plain Python: the decoding rule as the docs state it."""
    results = []
    for row, document in enumerate(documents):
        names = [mentions[0]["name"] for mentions in document["vertexSet"]]
        facts = []
        for pair, (head, tail) in enumerate(scored.pair_indices[row].tolist()):
            if head < 0:
                continue
            scores = scored.scores[row, pair].tolist()
            ranked = sorted(range(len(scores)), key=lambda column: -scores[column])[:top_k]
            for column in ranked:
                if scores[column] > thresholds[column]:
                    facts.append((head, tail, relation_labels[column], names[head], names[tail], scores[column]))
        results.append(sorted(facts, key=lambda fact: -fact[-1]))
    return results


@pytest.mark.parametrize("threshold, top_k", [(None, None), (0.3, 2), ({"P17": 0.2, "P108": 0.9}, 1)])
def test_vectorised_decoding_equals_the_rule_applied_pair_by_pair(model, threshold, top_k):
    predictor = RelationPredictor(model, model.get_tokenizer())
    documents = as_documents([RAW_DOCUMENT, {**RAW_DOCUMENT, "entities": RAW_DOCUMENT["entities"][:3]}])
    generator = torch.Generator().manual_seed(0)
    pair_indices = predictor.collator(predictor.featurize(documents))["pair_indices"]  # second document padded
    scored = ScoredBatch(torch.rand(*pair_indices.shape[:2], 3, generator=generator), pair_indices)
    options = DecodingOptions(threshold=threshold, top_k=top_k)
    decoded = predictor.decode(documents, scored, options)
    thresholds = options.threshold_vector(model.config.relation_labels).tolist()
    expected = reference_decode(documents, scored, thresholds, top_k or model.config.max_labels_per_pair or 3,
                                model.config.relation_labels)
    assert [[(f["h_idx"], f["t_idx"], f["r"], f["head"], f["tail"], f["score"]) for f in facts] for facts in decoded] \
        == [[fact[:5] + (pytest.approx(fact[5]),) for fact in facts] for facts in expected]
    assert sum(map(len, decoded)) > 0 and len(decoded[1]) < len(decoded[0])


def test_pipeline_by_name_needs_no_trust_remote_code(model, model_dir):
    """With paee_hf installed the task is built in: a checkpoint directory loads without trust_remote_code."""
    extractor = pipeline("document-relation-extraction", model=str(model_dir))
    assert isinstance(extractor, DocumentRelationExtractionPipeline)
    assert extractor(RAW_DOCUMENT) == model.predict(RAW_DOCUMENT)[0]
    # the checkpoint still lists the pipeline for users without the package
    assert "document-relation-extraction" in json.loads((model_dir / "config.json").read_text())["custom_pipelines"]


def test_pipeline_streams_generators_key_datasets_and_columns(model):
    import datasets
    from transformers.pipelines.pt_utils import KeyDataset

    extractor = pipeline("document-relation-extraction", model=model, tokenizer=model.get_tokenizer())
    short = {**RAW_DOCUMENT, "title": "short", "text": TEXT[:37], "entities": RAW_DOCUMENT["entities"][:2]}
    documents = [RAW_DOCUMENT, short, RAW_DOCUMENT, short, RAW_DOCUMENT]
    expected = model.predict(documents, threshold=0.3)
    streamed = extractor((document for document in documents), batch_size=2, threshold=0.3)
    assert not isinstance(streamed, list)
    assert_same_facts(streamed, expected)
    table = datasets.Dataset.from_list([{"document": json.dumps(document)} for document in documents])
    table = table.map(lambda row: {"parsed": json.loads(row["document"])})
    assert_same_facts(extractor(KeyDataset(table, "parsed"), batch_size=3, threshold=0.3, num_workers=0), expected)
    assert_same_facts(extractor(table["parsed"], batch_size=4, threshold=0.3), expected)
    assert_same_facts(extractor(documents, batch_size=2, threshold=0.3), expected)
    assert extractor([]) == []


def test_the_four_entry_points_give_the_same_facts(model, model_dir, tmp_path):
    """model.predict, the pipeline, `paee predict` and the gathered path of `paee evaluate` and training."""
    from accelerate import Accelerator

    from paee_hf.cli import main
    from paee_hf.corpus.running import predict_gathered

    short = {**RAW_DOCUMENT, "title": "short", "text": TEXT[:37], "entities": RAW_DOCUMENT["entities"][:2]}
    documents = [RAW_DOCUMENT, short, {**RAW_DOCUMENT, "title": "again"}]
    by_predict = model.predict(documents, batch_size=2)
    assert sum(map(len, by_predict)) > 0
    by_pipeline = pipeline("document-relation-extraction", model=str(model_dir))(documents, batch_size=3)
    predictor = RelationPredictor(model, model.get_tokenizer())
    by_gathered = predict_gathered(predictor, as_documents(documents), Accelerator(cpu=True), batch_size=1)
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(document) + "\n" for document in documents))
    assert main(["predict", "--model", str(model_dir), "--input", str(source), "--output",
                 str(tmp_path / "out.jsonl")]) == 0
    by_cli = [json.loads(line)["relations"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]

    for results in (by_pipeline, by_gathered, by_cli):
        assert_same_facts(results, by_predict)


def test_entities_are_featurized_by_first_appearance_and_outputs_keep_the_callers_indices(model):
    """Paper section 2: V lays entities out by first appearance. Permuting vertexSet must not change what is
    predicted; facts, scores, evidence of training labels and candidate pairs stay in the caller's indices."""
    document = from_raw_text(RAW_DOCUMENT)
    permutation = [3, 1, 0, 2]  # new position -> old entity
    permuted = {**document, "vertexSet": [document["vertexSet"][old] for old in permutation],
                "entity_names": [document["entity_names"][old] for old in permutation]}
    feature = model.predictor().featurize([permuted])[0]
    assert feature["entity_order"] == [2, 1, 3, 0]  # John Smith, Paris, France, Acme Corp by first mention
    expected = model.predict(document, return_all_scores=True)[0]
    actual = model.predict(permuted, return_all_scores=True)[0]
    old = {new: previous for new, previous in enumerate(permutation)}
    remapped = sorted(((old[pair["h_idx"]], old[pair["t_idx"]]), pair["scores"]) for pair in actual)
    assert [pair for pair, _ in remapped] == sorted((pair["h_idx"], pair["t_idx"]) for pair in expected)
    for (pair, scores), reference in zip(remapped, sorted(expected, key=lambda p: (p["h_idx"], p["t_idx"]))):
        assert scores == pytest.approx(reference["scores"], abs=1e-6), pair
    facts = model.predict(permuted)[0]
    assert all(fact["head"] == permuted["entity_names"][fact["h_idx"]] for fact in facts)
    # candidate pairs and training labels are given in the caller's indices too
    labelled = {**permuted, "candidate_pairs": [[2, 1], [0, 3]],
                "labels": [{"h": 2, "t": 1, "r": "P19", "evidence": [0]}]}
    featurizer = model.predictor().featurizer
    feature = featurizer(labelled)
    order = feature["entity_order"]
    assert [[order[h], order[t]] for h, t in feature["pair_indices"]] == [[2, 1], [0, 3]]
    assert feature["pair_labels"] == [[model.config.label2id["P19"]], []] and feature["pair_evidence"] == [[0], []]
    scored = model.predictor().score([feature])
    assert scored.pair_indices[0].tolist() == [[2, 1], [0, 3]]


def test_entity_ordering_as_given_keeps_the_vertexset_order_and_the_callers_indices(model, tmp_path):
    """The switch that measures what the paper's order does: ``as_given`` lays V out in vertexSet order; outputs
    still speak the caller's indices, and the setting survives save/load."""
    document = from_raw_text(RAW_DOCUMENT)
    permuted = {**document, "vertexSet": [document["vertexSet"][old] for old in (3, 1, 0, 2)],
                "entity_names": [document["entity_names"][old] for old in (3, 1, 0, 2)]}
    model.save_pretrained(tmp_path / "as_given")
    as_given = PaeeForDocumentRelationExtraction.from_pretrained(tmp_path / "as_given", entity_ordering="as_given")
    as_given.save_pretrained(tmp_path / "as_given")
    reloaded = PaeeForDocumentRelationExtraction.from_pretrained(tmp_path / "as_given")
    assert reloaded.config.entity_ordering == "as_given"
    assert reloaded.predictor().featurize([permuted])[0]["entity_order"] == [0, 1, 2, 3]
    facts = reloaded.predict(permuted)[0]
    assert facts and all(fact["head"] == permuted["entity_names"][fact["h_idx"]]
                         and fact["tail"] == permuted["entity_names"][fact["t_idx"]] for fact in facts)
    # the order reaches the pair matrix: the two orderings do not score alike
    first_mention = {(p["h_idx"], p["t_idx"]): p["scores"] for p in model.predict(permuted, return_all_scores=True)[0]}
    given = {(p["h_idx"], p["t_idx"]): p["scores"] for p in reloaded.predict(permuted, return_all_scores=True)[0]}
    assert first_mention.keys() == given.keys() and first_mention != given


def test_an_unknown_entity_ordering_is_named():
    with pytest.raises(ValueError, match=r"entity_ordering.*'by_name'"):
        PaeeConfig(entity_ordering="by_name")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none); run it on a GPU machine")
def test_predict_on_gpu_gives_the_cpu_facts(model):
    """Scores leave the GPU with their pair indices: decoding once mixed a CUDA pair index with CPU scores."""
    [on_cpu] = model.predict(RAW_DOCUMENT, threshold=0.01)
    model.to("cuda")
    try:
        [on_gpu] = model.predict(RAW_DOCUMENT, threshold=0.01)
    finally:
        model.to("cpu")
    assert [(f["h_idx"], f["t_idx"], f["r"]) for f in on_gpu] == [(f["h_idx"], f["t_idx"], f["r"]) for f in on_cpu]
    assert [f["score"] for f in on_gpu] == pytest.approx([f["score"] for f in on_cpu], abs=1e-4)
    logits = torch.randn(2, 5, model.config.num_labels)
    assert torch.equal(decode_relations(logits.cuda(), 2).cpu(), decode_relations(logits, 2))
    pairs = torch.tensor([[[0, 1], [1, 0], [0, 2], [2, 0], [-1, -1]]] * 2)  # collator's pairs stay on the CPU
    labels = model.config.id2label
    assert (facts_from_predictions(decode_relations(logits.cuda()), pairs, ["a", "b"], labels)
            == facts_from_predictions(decode_relations(logits), pairs, ["a", "b"], labels))
