"""Deterministic test corpora (mixed project, many small files, one big file) and mutations.

Everything comes from seeded generators: the same spec gives the same bytes on every
machine. Text is generated source code, prose and log lines over a Zipf-distributed
vocabulary, so compressors reach realistic ratios (about 3-5x); incompressible bytes come
from the BLAKE3 extendable output (several GB/s). Generated trees are cached under
`<cache>/<name>-<hash of spec>/tree/`, with `corpus.json` written last as the marker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import blake3

__all__ = [
    "Corpus",
    "CorpusSpec",
    "TextMaker",
    "copy_tree",
    "ensure_corpus",
    "mutate",
    "random_bytes",
    "specs",
]

GENERATOR_VERSION = 1
KB = 1000
MB = 1000 * 1000
MiB = 1024 * 1024
_PIECE = 4 * MiB


@dataclass(frozen=True)
class CorpusSpec:
    """What to generate. `kind` is "mixed", "small" or "big"; unused sizes stay 0."""

    name: str
    kind: str
    seed: int = 1
    text_files: int = 0
    text_min: int = 1 * KB
    text_max: int = 50 * KB
    folders: int = 100
    binaries: int = 0
    binary_min: int = 100 * KB
    binary_max: int = 5 * MB
    large_files: int = 0
    large_size: int = 50 * MB
    big_size: int = 0
    mutate_fraction: float = 0.01
    mutate_binaries: int = 2

    def digest(self) -> str:
        data = json.dumps(
            {"v": GENERATOR_VERSION, **dataclasses.asdict(self)}, sort_keys=True
        ).encode()
        return hashlib.sha256(data).hexdigest()[:12]


def specs(scale: str) -> dict[str, CorpusSpec]:
    """The three corpora at scale "full" (the issue's sizes), "quick" or "smoke"."""
    if scale == "full":
        return {
            "mixed": CorpusSpec("mixed", "mixed", text_files=5000, binaries=200, large_files=3),
            "small": CorpusSpec("small", "small", text_files=10_000, text_max=8 * KB, folders=200),
            "big": CorpusSpec("big", "big", big_size=2 * 1024 * MiB),
        }
    if scale == "quick":
        return {
            "mixed": CorpusSpec(
                "mixed",
                "mixed",
                text_files=1000,
                folders=40,
                binaries=30,
                binary_max=2 * MB,
                large_files=1,
                large_size=16 * MB,
            ),
            "small": CorpusSpec("small", "small", text_files=2000, text_max=8 * KB, folders=40),
            "big": CorpusSpec("big", "big", big_size=256 * MiB),
        }
    if scale == "smoke":
        return {
            "mixed": CorpusSpec(
                "mixed",
                "mixed",
                text_files=100,
                text_max=20 * KB,
                folders=5,
                binaries=4,
                binary_max=300 * KB,
                large_files=1,
                large_size=2 * MB,
            ),
            "small": CorpusSpec("small", "small", text_files=200, text_max=8 * KB, folders=10),
            "big": CorpusSpec("big", "big", big_size=8 * MiB),
        }
    raise ValueError(f"unknown scale {scale!r}")


# ------------------------------------------------------------------------ byte sources


def random_bytes(key: str, size: int) -> Iterator[bytes]:
    """`size` incompressible bytes determined by `key`, in pieces of at most 4 MiB."""
    xof = blake3.blake3(key.encode())
    for offset in range(0, size, _PIECE):
        yield xof.digest(length=min(_PIECE, size - offset), seek=offset)


_CONSONANTS = ("k", "r", "m", "t", "n", "s", "l", "v", "d", "p", "g", "b", "ch", "sh", "th", "qu")
_SYLLABLES = [c + v for c in _CONSONANTS for v in "aeiou"] + ["or", "an", "el", "in", "ex", "st"]
_LEVELS = ["INFO"] * 12 + ["DEBUG"] * 6 + ["WARN"] * 2 + ["ERROR"]


class TextMaker:
    """Seeded generator of source-like code, prose and log lines."""

    def __init__(self, seed: int, vocabulary: int = 4000) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        words: set[str] = set()
        while len(words) < vocabulary:
            words.add("".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))))
        self.vocab = sorted(words)
        rng.shuffle(self.vocab)
        weights = [1.0 / (i + 1) ** 1.05 for i in range(len(self.vocab))]
        self.cum = [0.0] * len(weights)
        total = 0.0
        for i, w in enumerate(weights):
            total += w
            self.cum[i] = total

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=n)

    def _code_line(self, indent: int) -> str:
        rng = self.rng
        a, b, c, d = self.words(4)
        pad = "    " * indent
        pick = rng.randrange(10)
        if pick == 0:
            return f"{pad}def {a}_{b}(self, {c}, {d}={rng.randrange(1000)}):"
        if pick == 1:
            return f"{pad}if {a}.{b} > {rng.randrange(100000)}:"
        if pick == 2:
            return f"{pad}for {a} in {b}.{c}({d}):"
        if pick == 3:
            return f"{pad}# {' '.join(self.words(rng.randint(3, 12)))}"
        if pick == 4:
            return f"{pad}return {a}_{b}({c}, {rng.random():.6f})"
        if pick == 5:
            return f'{pad}{a}["{b}"] = "{c} {d} {rng.randrange(1 << 32):08x}"'
        if pick == 6:
            return ""
        return f"{pad}{a} = {b}.{c}({d}, {rng.randrange(10**6)})"

    def code(self, size: int) -> str:
        """About `size` characters of indented, Python-like source."""
        rng = self.rng
        lines: list[str] = [f"import {w}" for w in self.words(rng.randint(2, 6))]
        length = 0
        indent = 0
        while length < size:
            line = self._code_line(indent)
            lines.append(line)
            length += len(line) + 1
            if line.endswith(":"):
                indent = min(indent + 1, 5)
            elif rng.random() < 0.25:
                indent = max(0, indent - 1)
        return "\n".join(lines)[:size] + "\n"

    def prose(self, size: int) -> str:
        """About `size` characters of Markdown-like paragraphs."""
        rng = self.rng
        parts: list[str] = [f"# {' '.join(self.words(rng.randint(2, 6))).title()}\n"]
        length = len(parts[0])
        while length < size:
            sentences = []
            for _ in range(rng.randint(2, 7)):
                words = self.words(rng.randint(5, 22))
                words[0] = words[0].capitalize()
                sentences.append(" ".join(words) + rng.choice(".....?!"))
            paragraph = " ".join(sentences) + "\n"
            parts.append(paragraph)
            length += len(paragraph) + 1
        return "\n".join(parts)[:size] + "\n"

    def text_file(self, size: int) -> tuple[str, str]:
        """(extension, text) of a source file (3 in 4) or a Markdown document."""
        if self.rng.random() < 0.75:
            return ".py", self.code(size)
        return ".md", self.prose(size)

    def log_chunk(self, start_ms: int, size: int) -> tuple[str, int]:
        """About `size` characters of log lines from `start_ms`; returns (text, end ms)."""
        rng = self.rng
        lines: list[str] = []
        length = 0
        t = start_ms
        while length < size:
            n = max(16, (size - length) // 90)
            steps = rng.choices(range(1, 40), k=n)
            levels = rng.choices(_LEVELS, k=n)
            counts = rng.choices(range(3, 11), k=n)
            tooks = rng.choices(range(5000), k=n)
            ids = rng.randbytes(4 * n).hex()
            words = self.words(sum(counts))
            w = 0
            for i in range(n):
                t += steps[i]
                seconds, ms = divmod(t, 1000)
                minutes, sec = divmod(seconds, 60)
                hours, minute = divmod(minutes, 60)
                k = counts[i]
                line = (
                    f"2024-05-{1 + (hours // 24) % 28:02d} {hours % 24:02d}:{minute:02d}:"
                    f"{sec:02d}.{ms:03d} {levels[i]:5} [{words[w]}.{words[w + 1]}] "
                    f"{' '.join(words[w + 2 : w + k])} id={ids[8 * i : 8 * i + 8]} "
                    f"took={tooks[i]}ms\n"
                )
                w += k
                lines.append(line)
                length += len(line)
                if length >= size:
                    break
        return "".join(lines), t


# ------------------------------------------------------------------------ corpora


@dataclass
class Corpus:
    """A generated tree: `root/tree` holds the files, `texts`/`binaries` name them."""

    spec: CorpusSpec
    root: Path
    texts: list[str]
    binaries: list[str]
    files: int
    bytes: int

    @property
    def tree(self) -> Path:
        return self.root / "tree"


def _write(path: Path, data: bytes | Iterator[bytes]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
            return len(data)
        total = 0
        for piece in data:
            handle.write(piece)
            total += len(piece)
        return total


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _generate(spec: CorpusSpec, tree: Path) -> tuple[list[str], list[str], int]:
    rng = random.Random(spec.seed)
    maker = TextMaker(spec.seed + 1)
    texts: list[str] = []
    binaries: list[str] = []
    total = 0
    folder_names = [f"{'_'.join(maker.words(2))}{i}" for i in range(max(1, spec.folders))]
    for i in range(spec.text_files):
        size = rng.randint(spec.text_min, spec.text_max)
        ext, text = maker.text_file(size)
        if spec.kind == "small":
            folder = folder_names[i % len(folder_names)]
        else:
            top = folder_names[rng.randrange(len(folder_names))]
            folder = f"src/{folder_names[hash_index(top, min(7, len(folder_names)))]}/{top}"
        rel = f"{folder}/{maker.words(1)[0]}_{i}{ext}"
        total += _write(tree / rel, text.encode())
        texts.append(rel)
    for i in range(spec.binaries):
        size = _log_uniform(rng, spec.binary_min, spec.binary_max)
        ext = rng.choice([".png", ".jpg", ".pdf", ".zip", ".bin"])
        rel = f"assets/{folder_names[i % len(folder_names)]}/asset_{i}{ext}"
        total += _write(tree / rel, random_bytes(f"{spec.seed}:bin:{i}", size))
        binaries.append(rel)
    for i in range(spec.large_files):
        rel = f"media/recording_{i}.raw"
        total += _write(tree / rel, random_bytes(f"{spec.seed}:large:{i}", spec.large_size))
        binaries.append(rel)
    if spec.kind == "big":
        rel = "big/data.log"
        total += _write(tree / rel, _big_file(spec, maker))
        binaries.append(rel)
    return texts, binaries, total


def hash_index(text: str, modulo: int) -> int:
    """A stable small number from a string (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") % modulo


def _big_file(spec: CorpusSpec, maker: TextMaker) -> Iterator[bytes]:
    """First half incompressible, second half log-like text."""
    half = spec.big_size // 2
    yield from random_bytes(f"{spec.seed}:big", half)
    written = half
    t = 0
    while written < spec.big_size:
        text, t = maker.log_chunk(t, min(_PIECE, spec.big_size - written))
        data = text.encode()[: spec.big_size - written]
        yield data
        written += len(data)


def ensure_corpus(spec: CorpusSpec, cache: Path, log: bool = True) -> Corpus:
    """The corpus for `spec`, generated into `cache` unless it is there already."""
    root = cache / f"{spec.name}-{spec.digest()}"
    marker = root / "corpus.json"
    if marker.is_file():
        data = json.loads(marker.read_text())
        return Corpus(spec, root, data["texts"], data["binaries"], data["files"], data["bytes"])
    if root.exists():
        shutil.rmtree(root)
    if log:
        print(f"generating corpus {spec.name} into {root} ...", flush=True)
    tree = root / "tree"
    tree.mkdir(parents=True)
    texts, binaries, total = _generate(spec, tree)
    files = len(texts) + len(binaries)
    data = {"spec": dataclasses.asdict(spec), "texts": texts, "binaries": binaries}
    data.update(files=files, bytes=total)
    tmp = root / "corpus.json.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, marker)
    return Corpus(spec, root, texts, binaries, files, total)


def copy_tree(corpus: Corpus, dest: Path) -> None:
    """A fresh, independent copy of the corpus files (timestamps kept)."""
    shutil.copytree(corpus.tree, dest)


# ------------------------------------------------------------------------ mutation


def _edit_text(text: str, maker: TextMaker) -> str:
    """Change a few lines slightly: one replaced, one word changed, one line inserted."""
    rng = maker.rng
    lines = text.split("\n")
    if len(lines) < 3:
        return text + "edited\n"
    i = rng.randrange(len(lines) - 1)
    lines[i] = lines[i] + f"  # {' '.join(maker.words(3))}"
    j = rng.randrange(len(lines) - 1)
    words = lines[j].split(" ")
    words[rng.randrange(len(words))] = maker.words(1)[0]
    lines[j] = " ".join(words)
    k = rng.randrange(len(lines) - 1)
    lines.insert(k, f"# {' '.join(maker.words(rng.randint(3, 8)))}")
    return "\n".join(lines)


def mutate(corpus: Corpus, work: Path) -> dict[str, int]:
    """Apply the corpus's deterministic edit to the copy at `work`; returns what changed.

    Mixed and small: ~1% of text files get a few lines edited, two binaries are replaced by
    new random bytes of the same size. Big: three small spots of the big file are
    overwritten in place (same size), a tiny change in a huge file.
    """
    spec = corpus.spec
    maker = TextMaker(spec.seed + 1000)
    rng = maker.rng
    changed = {"texts": 0, "binaries": 0, "bytes": 0}
    if spec.kind == "big":
        path = work / corpus.binaries[0]
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            for n in range(3):
                offset = size // 2 + (n + 1) * (size // 2) // 4
                text, _ = maker.log_chunk(n * 1000, 200)
                data = text.encode()[:200]
                handle.seek(offset)
                handle.write(data)
                changed["bytes"] += len(data)
        changed["spots"] = 3
        return changed
    count = max(1, round(len(corpus.texts) * spec.mutate_fraction))
    for rel in sorted(rng.sample(corpus.texts, count)):
        path = work / rel
        new = _edit_text(path.read_text("utf-8"), maker).encode()
        path.write_bytes(new)
        changed["texts"] += 1
        changed["bytes"] += len(new)
    pool = [b for b in corpus.binaries if not b.startswith("media/")] or corpus.binaries
    for rel in sorted(rng.sample(pool, min(spec.mutate_binaries, len(pool)))):
        path = work / rel
        size = path.stat().st_size
        changed["bytes"] += _write(path, random_bytes(f"{spec.seed}:replaced:{rel}", size))
        changed["binaries"] += 1
    return changed
