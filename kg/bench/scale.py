"""Grow a graph shaped like the curated one, to a requested size, for benchmarks.

The built graph is copied again and again: in each copy the studies, arms, regimens,
measurements, findings, contrasts and publications (with their evidence and reference entries) get
new IRIs, while the shared vocabulary — the ontology, subtypes, therapies, targets, immune
cell types, TME features and the two reviews — stays the same. So a larger graph has more
trials, arms and measurements for the same subtypes and drugs, with the fan-out and the
provenance of the real ones: the shape a user who loads more evidence would have.
The output is N-Triples, deterministic for a seed (the seed orders the copies' lines).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

from kg.identifiers import DATA_NAMESPACE
from kg.pipeline.records import RecordSet

__all__ = ["REPLICATED_KINDS", "grow", "write_grown"]

#: Record kinds that get new IRIs in each copy.
REPLICATED_KINDS = ("studies", "arms", "regimens", "measurements", "findings", "contrasts", "publications")

_IRI = re.compile(re.escape("<" + DATA_NAMESPACE) + r"([a-z0-9][a-z0-9-]*[a-z0-9])(?=[/>])")


def _segments(ntriples: str, replicated: set[str]) -> list[str]:
    """Split N-Triples text after every IRI of a replicated record, where a copy's suffix goes."""
    parts, start = [], 0
    for match in _IRI.finditer(ntriples):
        if match.group(1) in replicated:
            parts.append(ntriples[start:match.end()])
            start = match.end()
    parts.append(ntriples[start:])
    return parts


def grow(ntriples: str, records: RecordSet, target_triples: int, *, seed: int = 0) -> Iterator[str]:
    """Yield N-Triples text, chunk by chunk, until about ``target_triples`` triples are written.

    :param ntriples: the built graph as N-Triples (one triple a line)
    :param records: the records the graph was built from (to know which IRIs to copy)
    :param target_triples: how many triples to write at least (the last copy is cut to fit)
    :param seed: orders the lines of each copy (the same seed gives the same output)
    :yields: N-Triples text
    """
    replicated = {record.id for record in records.records if record.kind in REPLICATED_KINDS}
    lines = ntriples.splitlines(keepends=True)
    written = len(lines)
    yield ntriples
    rng = random.Random(seed)
    copy = 0
    segments = _segments(ntriples, replicated)
    while written < target_triples:
        copy += 1
        suffix = f"-x{copy}"
        copied = suffix.join(segments).splitlines(keepends=True)
        rng.shuffle(copied)
        # Lines without a replicated IRI (ontology, shared entities) are the same in every copy.
        fresh = [line for line in copied if suffix in line][: target_triples - written]
        written += len(fresh)
        yield "".join(fresh)


def write_grown(ntriples: str, records: RecordSet, target_triples: int, output: Path, *, seed: int = 0) -> int:
    """Write a grown graph to an N-Triples file.

    :param ntriples: the built graph as N-Triples
    :param records: the records it was built from
    :param target_triples: the size to reach
    :param output: the file to write
    :param seed: see :func:`grow`
    :returns: the number of triples written
    """
    count = 0
    with output.open("w", encoding="utf-8") as handle:
        for chunk in grow(ntriples, records, target_triples, seed=seed):
            handle.write(chunk)
            count += chunk.count("\n")
    return count
