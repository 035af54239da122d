"""Render predictions as the HTML view and take a screenshot of it with headless Chromium (Debian's ``chromium``).

    python scripts/screenshot_html.py --model OUTPUT_DIR/model --input docs.json --output view.png
    python scripts/screenshot_html.py                     # layout demo: gold facts of the quickstart dev set

With ``--model`` the page shows the model's predictions (with scores); without it, the gold facts of the documents
stand in for predictions and the page title says so. Install Chromium with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from paee_hf.cli.html_view import write_predictions_html

QUICKSTART_DEV = Path(__file__).resolve().parents[1] / "paee_hf" / "quickstart" / "dev.json"


def chromium_screenshot(html_path: Path, png_path: Path, width: int = 1200, height: int = 1600) -> Path:
    """Screenshot ``html_path`` with headless Chromium.

    Raises:
        FileNotFoundError: When no ``chromium`` executable is on the PATH.
        RuntimeError: When Chromium fails or writes no image.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise FileNotFoundError("chromium is not installed; on Debian/Ubuntu: apt-get install -y chromium")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a throw-away profile: no state shared with other runs
        result = subprocess.run(
            [executable, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
             f"--user-data-dir={profile}", f"--screenshot={png_path}", f"--window-size={width},{height}",
             html_path.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    if result.returncode != 0 or not png_path.is_file():
        raise RuntimeError(f"chromium failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return png_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="trained PAEE checkpoint; without it gold facts stand in for predictions")
    parser.add_argument("--input", default=str(QUICKSTART_DEV), help="DocRED-format JSON documents")
    parser.add_argument("--documents", type=int, default=2, help="how many documents to show (default 2)")
    parser.add_argument("--output", default="predictions_view.png", help="the PNG to write")
    parser.add_argument("--html", help="also keep the HTML page here")
    parser.add_argument("--title", help="page title (default: names the model, or says that gold facts are shown)")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args(argv)

    documents = json.loads(Path(args.input).read_text(encoding="utf-8"))[: args.documents]
    if args.model:
        from paee_hf import PaeeForDocumentRelationExtraction

        model = PaeeForDocumentRelationExtraction.from_pretrained(args.model).eval()
        predictions = model.predict(documents)
        title, names = f"PAEE predictions of {args.model}", model.config.relation_names
    else:
        rel_info = Path(args.input).with_name("rel_info.json")
        names = json.loads(rel_info.read_text(encoding="utf-8")) if rel_info.is_file() else None
        predictions = [[{"h_idx": label["h"], "t_idx": label["t"], "r": label["r"]} for label in document["labels"]]
                       for document in documents]
        title = "Layout demo: the gold facts of the documents shown as predictions (no model)"
    title = args.title or title
    with tempfile.TemporaryDirectory() as work:
        html_path = Path(args.html) if args.html else Path(work) / "view.html"
        write_predictions_html(html_path, documents, predictions, title=title, relation_names=names)
        png = chromium_screenshot(html_path, Path(args.output), args.width, args.height)
    print(f"{png} ({png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
