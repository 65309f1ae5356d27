"""Numbers as printed: read every number a text can be read to contain, and write a parsed
number back as the plain decimal it was written as.

The record checks use :func:`numbers_in` to ask whether a value is written in its own quote;
the coverage check uses it to find the figures of the reviews; the conversion to RDF uses
:func:`number_lexical` so that a literal keeps its printed form.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["leading_number", "number_lexical", "numbers_in"]


def number_lexical(value: float) -> str:
    """Write a number as the plain decimal it was written as (no exponent, no rounding).

    :param value: a number parsed from YAML
    :returns: its shortest plain decimal form, e.g. ``65.6`` or ``18``
    """
    text = format(Decimal(repr(value)), "f")
    return text


_NUMBER = re.compile(r"\d+(?:[.,·]\d+)?")
#: A number with thousands separators, as the sources write cohort sizes ("102,292 samples").
_THOUSANDS = re.compile(r"(?<![\d.,·])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d]|[.,·]\d)")
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "  # noqa: SIM905
          "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_NUMBER_WORDS = {word: value for value, word in enumerate(_UNITS)}
_NUMBER_WORDS.update({word: 10 * value for value, word in enumerate(_TENS, start=2)})
_WORD = re.compile(r"[a-z]+")
_JOINER = re.compile(r"[ \t-]+")


def _word_numbers(text: str) -> set[Decimal]:
    """The numbers written in words, below a thousand.

    Single words ("three", "thirty"), compounds ("twenty-one", "twenty one") and hundreds
    ("a hundred", "one hundred and five"); each word of a compound also counts on its own.
    (text2num 3.1, made for speech transcripts, was tried instead: it reads the abbreviation
    "OS" as 0 and leaves "two-year" unread, both common in the reviews.)

    :param text: the text as printed
    :returns: the numbers
    """
    lowered = text.lower()
    matches = list(_WORD.finditer(lowered))
    words = [match.group() for match in matches]

    def joined(position: int) -> bool:
        """Whether word ``position`` follows the previous one with only spaces or a hyphen between."""
        gap = lowered[matches[position - 1].end():matches[position].start()]
        return bool(_JOINER.fullmatch(gap))

    def below_hundred(position: int) -> tuple[int, int] | None:
        if position >= len(words) or words[position] not in _NUMBER_WORDS:
            return None
        value = _NUMBER_WORDS[words[position]]
        after = position + 1
        if (words[position] in _TENS and after < len(words) and joined(after)
                and 0 < _NUMBER_WORDS.get(words[after], 0) < 10):
            return value + _NUMBER_WORDS[words[after]], after + 1
        return value, after

    found: set[Decimal] = set()
    for position, word in enumerate(words):
        if word in _NUMBER_WORDS:
            found.add(Decimal(_NUMBER_WORDS[word]))
        compound = below_hundred(position)
        multiplier = 1 if word == "a" else _NUMBER_WORDS.get(word, 0)
        after = position + 1
        if 0 < multiplier < 10 and after < len(words) and words[after] == "hundred" and joined(after):
            value, after = multiplier * 100, after + 1
            if after < len(words) and words[after] == "and" and joined(after):
                after += 1
            rest = below_hundred(after) if after < len(words) and joined(after) else None
            compound = (value + rest[0], rest[1]) if rest else (value, after)
        if compound is not None:
            found.add(Decimal(compound[0]))
    return found


def numbers_in(text: str) -> set[Decimal]:
    """The numbers written in a text.

    In digits with a decimal point or comma ("7.7", "65·6", "7,7"), with thousands separators
    ("1,086", "102,292": a comma followed by three digits is read both ways), or in words
    ("three", "twenty-one").

    :param text: the text as printed
    :returns: every number it can be read to contain
    """
    digits = {Decimal(match.replace(",", ".").replace("·", ".")) for match in _NUMBER.findall(text)}
    thousands = {Decimal(match.replace(",", "")) for match in _THOUSANDS.findall(text)}
    return digits | thousands | _word_numbers(text)


def leading_number(window: str) -> set[Decimal]:
    """The number a text starts with: the first word's, which may go on into the next word
    when written in words ("twenty one"); none when the first word is no number.

    :param window: the words after a bound word such as "over" or "more than"
    :returns: every number the first words can be read as, or an empty set

    >>> Decimal(21) in leading_number("twenty-one patients")
    True
    >>> leading_number("half (52%)")
    set()
    """
    first = window.split()[0]
    if _NUMBER.search(first) or not _word_numbers(first):
        return numbers_in(first)
    return _word_numbers(window)
