"""Write data/records/publications/references.yaml from the two reviews' reference lists.

A curation aid, run by hand when the sources change; the build never runs it. The
reference number is the entry's position in the list (the PDF text lost some numbers),
checked against the review's stated count. Citations and DOIs are kept exactly as
printed; a primary publication cited by both reviews (same DOI, ignoring case, as DOIs
are case-insensitive) becomes one record cited in both.

Usage: python scripts/extract_references.py [SOURCES [OUTPUT]]
(defaults: the repository's sources/ and data/records/publications/references.yaml)
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from pathlib import Path

import yaml

from kg.pipeline.quotes import reference_entries

REVIEWS = {
    "huang2025": ("huang2025-frontimmunol-sarcoma-immunotherapy-review.txt", "References", 155),
    "wu2025": ("wu2025-ups-mfs-immunotherapy-review.txt", "References and Recommended Reading", 143),
}
DOI_FORMS = (
    re.compile(r"\]\(https://doi\.org/(10\.\d{4,9}/.+)\)\.?$"),  # Wu: [text](https://doi.org/X).
    re.compile(r"(?<!/)<https://doi\.org/(10\.\d{4,9}/\S+?)>"),  # Wu: <https://doi.org/X>.
    re.compile(r"doi:\s*(10\.\d{4,9}/\S+?)\.?$"),  # Huang: doi: X
    re.compile(r"(?<![/<])https://doi\.org/(10\.\d{4,9}/[^\s<>]+?)\.?$"),  # Wu: bare https://doi.org/X.
)
#: The year of a citation: "2021;44(2)" (Vancouver, year;volume) first, since a journal's
#: name may hold a year ("*J Immunother Hagerstown Md* 1997. 2021;44(2):63"); then "(2021)"
#: or ". 2021." forms.
YEAR_VOLUME = re.compile(r"(?<!\d)((?:19|20)\d{2});\s*\d")
YEAR = re.compile(r"(?:\(((?:19|20)\d{2})\)|[.*]\s*((?:19|20)\d{2})[;.:])")


def entries(path: Path, heading: str) -> list[str]:
    """Return the entries of the reference list under ``heading``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return reference_entries("\n".join(lines[lines.index(heading) + 1:]))


def printed_doi(citation: str) -> str | None:
    for form in DOI_FORMS:
        if match := form.search(citation):
            return match.group(1)
    return None


def title_key(citation: str, author: str, year: str | None) -> tuple[str, str | None, str]:
    """First author, year and the start of the title: the same paper cited by both reviews
    (whose author lists, and even DOIs, are printed differently)."""
    head = citation.split("*")[0]
    title = head.split("et al. ", 1)[1] if "et al. " in head else head.split(". ", 1)[-1]
    return author, year, re.sub(r"[^a-z0-9]", "", title.lower())[:40]


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def disambiguate_labels(publications: list[dict]) -> None:
    """Tell apart works with the same first author and year as bibliographies do: "Chen 2023a",
    "Chen 2023b", lettered in the order the reviews first cite them.

    :param publications: the publication records, in order; their labels are changed in place
    """
    by_label: dict[str, list[dict]] = {}
    for record in publications:
        by_label.setdefault(record["label"].lower(), []).append(record)
    for records in by_label.values():
        if len(records) > 1:
            for letter, record in zip("abcdefghijklmnopqrstuvwxyz", records, strict=False):
                record["label"] += letter


def main(sources: Path, output: Path) -> None:
    publications: dict[str, dict] = {}
    by_doi: dict[str, str] = {}
    by_title: dict[tuple[str, str | None, str], str] = {}
    for review, (name, heading, count) in REVIEWS.items():
        found = entries(sources / name, heading)
        if len(found) != count:
            raise SystemExit(f"{name}: {len(found)} references, expected {count}")
        for number, citation in enumerate(found, start=1):
            doi = printed_doi(citation)
            entry = {"review": review, "number": number, "citation": citation}
            if doi:
                entry["doi"] = doi
            author = slug(re.split(r"[ ,.]", citation, maxsplit=1)[0]) or "anon"
            year_match = YEAR_VOLUME.search(citation) or YEAR.search(citation)
            year = next((g for g in year_match.groups() if g), None) if year_match else None
            key = title_key(citation, author, year)
            known = by_doi.get(doi.lower()) if doi else None
            known = known or by_title.get(key)
            if known and all(e["review"] != review for e in publications[known]["cited_in"]):
                publications[known]["cited_in"].append(entry)
                continue
            base = f"ref-{author}-{year or 'nd'}"
            pid, suffix = base, 1
            while pid in publications:
                suffix += 1
                pid = f"{base}-{chr(ord('a') + suffix - 1)}"
            label_author = re.split(r"[ ,]", citation, maxsplit=1)[0]
            record: dict = {"id": pid, "label": f"{label_author} {year}" if year else label_author}
            if year:
                record["publication_year"] = int(year)
            if doi:
                record["doi"] = doi
                by_doi[doi.lower()] = pid
            record["cited_in"] = [entry]
            publications[pid] = record
            by_title[key] = pid
    disambiguate_labels(list(publications.values()))
    header = "# Generated by scripts/extract_references.py from the reviews' reference lists; do not edit by hand.\n"
    body = yaml.safe_dump({"publications": list(publications.values())}, sort_keys=False, allow_unicode=True, width=10000)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(header + body, encoding="utf-8")
    print(f"{len(publications)} publications, {sum(len(p['cited_in']) for p in publications.values())} citations")


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, nargs="?", default=root / "sources",
                        help="the directory with the reviews' text (default: the repository's sources/)")
    parser.add_argument("output", type=Path, nargs="?",
                        default=root / "data" / "records" / "publications" / "references.yaml",
                        help="the YAML file to write (default: data/records/publications/references.yaml)")
    arguments = parser.parse_args()
    main(arguments.sources, arguments.output)
