"""Build resources/demo/ (the bundled default data set) from ../shared/data.

Deterministic: the same input gives byte-identical output. Run from the repository root:

    python scripts/make_demo_resources.py [--data ../shared/data]

Selection (Indonesian, ``ind``, as the demo target language):
  * lexicon: the whole English->Indonesian Wiktionary dictionary (WECHSEL dicts);
  * UniMorph: every row of the Indonesian lemmas that are targets in that lexicon,
    at most 400 lemmas, in file order;
  * MASSIVE: en-US train, the first 10 utterances of each intent; id-ID test,
    the first 5 of each intent;
  * text: the Universal Declaration of Human Rights in Indonesian and in English
    (article-aligned; the English side is the source for pseudo-monolingual synthesis).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lexiconlm.files import atomic_write_text


def _lines(path: Path) -> list[str]:
    # split on "\n" only: other Unicode line separators are data
    text = path.read_text(encoding="utf-8")
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


def _per_intent(rows: list[str], k: int) -> list[str]:
    header, body = rows[0], rows[1:]
    seen: dict[str, int] = defaultdict(int)
    out = [header]
    for row in body:
        intent = row.split("\t")[1]
        if seen[intent] < k:
            seen[intent] += 1
            out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "resources" / "demo")
    args = ap.parse_args(argv)
    d, out = args.data, args.out
    out.mkdir(parents=True, exist_ok=True)

    lex_src = d / "lexicons" / "wiktionary" / "indonesian.txt"
    lex_lines = _lines(lex_src)
    atomic_write_text(out / "lexicons" / "indonesian.txt", "".join(line + "\n" for line in lex_lines))
    targets = {line.split("\t")[1] for line in lex_lines if "\t" in line}

    um_rows = _lines(d / "unimorph" / "ind.tsv")
    lemmas: list[str] = []
    for row in um_rows:
        f = row.split("\t")
        if len(f) >= 3 and f[0] in targets and f[0] not in lemmas:
            lemmas.append(f[0])
            if len(lemmas) == 400:
                break
    keep = set(lemmas)
    um_keep = [r for r in um_rows if r.split("\t")[0] in keep]
    atomic_write_text(out / "unimorph" / "ind.tsv", "".join(r + "\n" for r in um_keep))

    train = _per_intent(_lines(d / "nlu" / "massive" / "en-US" / "train.tsv"), 10)
    atomic_write_text(out / "massive" / "en-US" / "train.tsv", "".join(r + "\n" for r in train))
    test = _per_intent(_lines(d / "nlu" / "massive" / "test" / "id-ID.tsv"), 5)
    atomic_write_text(out / "massive" / "test" / "id-ID.tsv", "".join(r + "\n" for r in test))

    (out / "text").mkdir(exist_ok=True)
    shutil.copyfile(d / "text" / "udhr" / "ind.tsv", out / "text" / "ind_udhr.tsv")
    shutil.copyfile(d / "text" / "udhr" / "eng.tsv", out / "text" / "eng_udhr.tsv")
    print(
        f"lexicon {len(lex_lines)} lines, unimorph {len(um_keep)} rows / {len(lemmas)} lemmas, "
        f"massive train {len(train) - 1}, test {len(test) - 1}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
