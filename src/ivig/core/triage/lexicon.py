"""Reading free text (English, Spanish) into the symptoms of the triage table.

The words live in ``ivig/data/symptom_lexicon.toml`` (the project's own phrase list, a design
choice; the symptoms themselves are cited in triage.toml). A report is split into phrases, each
phrase is matched, and every phrase comes back with what it was read as, so that a person can
see and correct the reading. The promises:

- matching ignores case, accents and punctuation ("Can't BREATHE!!" = "cant breathe");
- a clear negation just before a symptom ("no trouble breathing", "sin fiebre") marks it as not
  present; when negation is unclear (a negation elsewhere in the phrase, "not sure if", "o no")
  the symptom is kept;
- a phrase that matches nothing is "unread": it stays ``call_doctor`` with a question (G4);
- reading only ever adds symptoms: a negated phrase never removes a symptom given elsewhere.

Pure: the only I/O is reading the package data file once.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ivig.core.triage.data import LANGUAGES, RANK, TriageData, TriageDataError, load_triage_data

LEXICON_FILE = "symptom_lexicon.toml"
# Design choices of the matcher (docs/triage.md, "Free text"), not clinical numbers.
_FUZZY_MIN_LETTERS = 6  # a word this long may have one letter wrong, missing, extra or swapped
_FUZZY_SINGLE_WORD_LETTERS = 8  # ... and a one-word phrase must be this long to be guessed
_MAX_BETWEEN = 4  # at most this many words between a negation and what it negates
_MAX_GAPS = 3  # filler words allowed inside a multi-word phrase ("lips look a bit swollen")
_LEFTOVER_WORDS = 3  # an "expected" reading with this many unexplained words is only partly read
_MAX_TEXT = 2000  # characters of free text read per report entry (the rest is refused)

_CONNECTORS = frozenset({"or", "o", "u", "nor", "ni"})


# --- Normalising --------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Lower case, accents removed, apostrophes dropped, other punctuation read as a space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['’‘`´]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


def _stem(token: str) -> str:
    """Plural "s" ignored (lips = lip, ronchas = roncha); short words are kept as they are."""
    return (
        token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") else token
    )


def tokens(text: str) -> tuple[str, ...]:
    return tuple(_stem(t) for t in normalise_text(text).split())


# Phrase boundaries: sentence punctuation (a point or comma between digits is a decimal: kept),
# slashes between words, new lines, bullets and dashes between spaces.
_BOUNDARY = re.compile(r"(?<!\d)[.,]|[.,](?!\d)|(?<!\d)/|/(?!\d)|[;:!?¡¿\n\r•|()\[\]{}]|\s[-–—]+\s")


# --- The data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One phrase of the lexicon, as the words it is matched with."""

    symptom: str
    words: tuple[str, ...]
    text: str
    language: str
    level: str


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    by_first_word: Mapping[str, tuple[Term, ...]]
    fuzzy_vocabulary: frozenset[str]
    split_words: frozenset[str]
    negations: frozenset[str]
    between: frozenset[str]
    uncertain: tuple[tuple[str, ...], ...]
    reassurance: frozenset[tuple[str, ...]]
    gap_words: frozenset[str]  # may stand inside a multi-word phrase ("swollen top lip")
    fillers: frozenset[str]  # carry no symptom ("today", "she", "after the infusion")
    meta: Mapping[str, Any]


def parse_lexicon(text: str, triage: TriageData) -> Lexicon:
    """Parse and check the lexicon against the triage table; raise TriageDataError listing every
    problem (a symptom without English or Spanish words, an unknown symptom, a phrase holding a
    word that splits phrases)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageDataError(f"{LEXICON_FILE} is not valid TOML: {exc}") from exc
    problems: list[str] = []

    def words_of(table: object, where: str) -> list[str]:
        if not isinstance(table, Mapping):
            problems.append(f"{where}: expected a table with en and es lists")
            return []
        found: list[str] = []
        for language in LANGUAGES:
            value = table.get(language)
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and normalise_text(v) for v in value)
            ):
                problems.append(f"{where}.{language}: expected a non-empty list of phrases")
                continue
            found.extend(value)
        return found

    split_words = frozenset(normalise_text(w) for w in words_of(raw.get("split"), "split"))
    negation_table = raw.get("negation")
    negations = frozenset(tokens(" ".join(words_of(negation_table, "negation"))))
    between_raw = negation_table.get("between", []) if isinstance(negation_table, Mapping) else []
    between = frozenset(tokens(" ".join(str(w) for w in between_raw)))
    uncertain = tuple(tokens(w) for w in words_of(raw.get("uncertain"), "uncertain"))
    reassurance = frozenset(tokens(w) for w in words_of(raw.get("reassurance"), "reassurance"))
    matcher = raw.get("matcher", {})
    gap_words = frozenset(tokens(" ".join(words_of(matcher.get("gap_words"), "matcher.gap_words"))))
    fillers = frozenset(tokens(" ".join(words_of(matcher.get("fillers"), "matcher.fillers"))))

    symptoms = raw.get("symptoms")
    if not isinstance(symptoms, Mapping):
        symptoms = {}
        problems.append("symptoms: expected a table of symptoms")
    for name in sorted(set(triage.symptoms) - set(symptoms)):
        problems.append(
            f"symptoms.{name}: the triage table has this symptom but the lexicon has no words "
            "for it (add en and es phrases)"
        )
    terms: list[Term] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for name, table in symptoms.items():
        where = f"symptoms.{name}"
        if name not in triage.symptoms:
            problems.append(f"{where}: not a symptom of the triage table")
            continue
        words_of(table, where)  # reports missing languages
        for language in LANGUAGES:
            for phrase in table.get(language, []) if isinstance(table, Mapping) else []:
                if not isinstance(phrase, str):
                    continue
                plain = normalise_text(phrase).split()
                if set(plain) & split_words:
                    problems.append(
                        f"{where}.{language}: {phrase!r} holds a word that splits phrases "
                        f"({', '.join(sorted(set(plain) & split_words))}); it could never match"
                    )
                    continue
                words = tokens(phrase)
                if not words or (name, words) in seen:
                    continue
                seen.add((name, words))
                terms.append(Term(name, words, phrase, language, triage.symptoms[name].level))
    if problems:
        raise TriageDataError(f"{LEXICON_FILE} is not valid:\n" + "\n".join(problems))
    by_first: dict[str, list[Term]] = {}
    for term in terms:
        by_first.setdefault(term.words[0], []).append(term)
    fuzzy = frozenset(
        word
        for term in terms
        if term.level != "expected"
        for word in term.words
        if len(word) >= _FUZZY_MIN_LETTERS
    )
    return Lexicon(
        terms=tuple(terms),
        by_first_word={k: tuple(v) for k, v in by_first.items()},
        fuzzy_vocabulary=fuzzy,
        split_words=split_words,
        negations=negations,
        between=between,
        uncertain=uncertain,
        reassurance=reassurance,
        gap_words=gap_words,
        fillers=fillers,
        meta=dict(raw.get("meta", {})),
    )


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The package's lexicon, checked against the triage table (read once)."""
    text = resources.files("ivig.data").joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    return parse_lexicon(text, load_triage_data())


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One symptom found in a phrase: which lexicon phrase matched, and how."""

    symptom: str
    term: str  # the lexicon phrase that matched
    typed: str  # the words of the phrase it matched
    close_spelling: bool  # matched with one letter wrong, missing, extra or swapped
    negated: bool  # a clear negation stands just before it
    start: int
    end: int


@dataclass(frozen=True)
class PhraseReading:
    """What one phrase of a free-text report was read as.

    ``symptoms`` are read as present; ``not_present`` were clearly negated ("no rash");
    ``negation_unclear`` is true when a negation was seen but not applied (the symptom is kept);
    ``unread`` is true when nothing could be read with confidence: the phrase then counts as an
    unknown symptom (call_doctor, G4) and a question asks what was meant."""

    text: str
    symptoms: tuple[str, ...]
    not_present: tuple[str, ...]
    matches: tuple[Match, ...]
    negation_unclear: bool
    reassurance: bool
    unread: bool


def split_phrases(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Split free text into phrases at punctuation and at the words that join clauses."""
    lexicon = lexicon or load_lexicon()
    phrases: list[str] = []
    for part in _BOUNDARY.split(text):
        if part is None:
            continue
        words = part.split()
        current: list[str] = []
        for word in words:
            if normalise_text(word) in lexicon.split_words:
                if current:
                    phrases.append(" ".join(current))
                current = []
            else:
                current.append(word)
        if current:
            phrases.append(" ".join(current))
    return [p.strip() for p in phrases if normalise_text(p)]


def read_free_text(text: str, language: str = "en") -> tuple[PhraseReading, ...]:
    """Read free text into one :class:`PhraseReading` per phrase.

    Both languages' words are always tried (people mix them), so ``language`` ("en", "es",
    or a browser's "es-MX") does not change the reading; it is accepted for callers that pass
    the person's language. Text longer than the limit is
    read up to the limit and the rest comes back as one unread phrase (never silently dropped).
    """
    del language  # both languages are always tried; the words shown come from result_to_dict
    lexicon = load_lexicon()
    head, rest = text[:_MAX_TEXT], text[_MAX_TEXT:]
    readings: list[PhraseReading] = []
    for phrase in split_phrases(head, lexicon):
        reading = read_phrase(phrase, lexicon)
        if reading.unread and readings and readings[-1].matches:
            reading = _with_leading_words(readings[-1], phrase, reading, lexicon)
        readings.append(reading)
    if normalise_text(rest):
        readings.append(PhraseReading(rest[:200] + "…", (), (), (), False, False, True))
    return tuple(readings)


def _with_leading_words(
    previous: PhraseReading, phrase: str, reading: PhraseReading, lexicon: Lexicon
) -> PhraseReading:
    """ "swollen lips and face": an unread "face" is read with the words before "lips"
    ("swollen face"), but only when a match spans those words and this phrase."""
    lead = previous.text.split()[:-1]
    if not lead:
        return reading
    joined = read_phrase(" ".join([*lead, phrase]), lexicon)
    lead_tokens = len(tokens(" ".join(lead)))
    spanning = [m for m in joined.matches if m.start < lead_tokens < m.end and not m.negated]
    if not spanning or joined.unread:
        return reading
    symptoms = tuple(_dedupe(m.symptom for m in spanning))
    return PhraseReading(
        phrase, symptoms, (), tuple(spanning), joined.negation_unclear, False, False
    )


def read_phrase(phrase: str, lexicon: Lexicon | None = None) -> PhraseReading:
    lexicon = lexicon or load_lexicon()
    words = tokens(phrase)
    found = _find(words, lexicon)
    uncertain = any(_contains(words, cue) for cue in lexicon.uncertain)
    covered = {i for m in found for i in range(m[2], m[3])}
    cues = [i for i, w in enumerate(words) if w in lexicon.negations and i not in covered]
    matches: list[Match] = []
    unclear = False
    for term, close, start, end in found:
        negated = False
        before = [i for i in cues if i < start]
        if before and not uncertain:
            negated = _clearly_negates(words, before[-1], start, matches, lexicon)
        if cues and not negated:
            unclear = True
        matches.append(
            Match(term.symptom, term.text, " ".join(words[start:end]), close, negated, start, end)
        )
    present = _dedupe(m.symptom for m in matches if not m.negated)
    absent = _dedupe(m.symptom for m in matches if m.negated and m.symptom not in present)
    reassurance = not matches and _is_reassurance(words, lexicon)
    unread = not matches and not reassurance
    if matches and not unread:
        unread = _only_partly_read(words, matches, covered, lexicon)
    return PhraseReading(
        phrase, tuple(present), tuple(absent), tuple(matches), unclear, reassurance, unread
    )


def _find(words: Sequence[str], lexicon: Lexicon) -> list[tuple[Term, bool, int, int]]:
    """Every lexicon phrase found in the words; a phrase inside a longer one of the same or a
    higher level is dropped (a higher-level phrase is never dropped)."""
    found: list[tuple[Term, bool, int, int]] = []
    for start, word in enumerate(words):
        candidates: list[Term] = list(lexicon.by_first_word.get(word, ()))
        for near in _close_words(word, lexicon.fuzzy_vocabulary):
            candidates.extend(lexicon.by_first_word.get(near, ()))
        for term in candidates:
            hit = _match_at(words, start, term, lexicon.gap_words)
            if hit is not None:
                end, close = hit
                if close and term.level == "expected":
                    continue  # an "expected" reading is never guessed
                found.append((term, close, start, end))
    kept = []
    for item in found:
        term, _, start, end = item
        inside = any(
            o_start <= start
            and end <= o_end
            and (o_end - o_start) > (end - start)
            and RANK[other.level] >= RANK[term.level]
            for other, _, o_start, o_end in found
        )
        if not inside:
            kept.append(item)
    kept.sort(key=lambda f: (f[2], -f[3], f[1]))  # exact before close spelling
    unique: dict[tuple[str, int, int], tuple[Term, bool, int, int]] = {}
    for item in kept:
        unique.setdefault((item[0].symptom, item[2], item[3]), item)
    return list(unique.values())


def _match_at(
    words: Sequence[str], start: int, term: Term, gap_words: frozenset[str]
) -> tuple[int, bool] | None:
    i, close, gaps = start, False, 0
    # A close spelling is accepted only for call/emergency phrases, and for a one-word phrase
    # only when it is long (a short word is too often another real word: panting / painting).
    fuzzy = term.level != "expected" and (
        len(term.words) > 1 or len(term.words[0]) >= _FUZZY_SINGLE_WORD_LETTERS
    )
    for index, expected in enumerate(term.words):
        while True:
            if i >= len(words):
                return None
            word = words[i]
            if word == expected:
                break
            if fuzzy and _one_edit(word, expected):
                close = True
                break
            if index > 0 and word in gap_words and gaps < _MAX_GAPS:
                gaps += 1
                i += 1
                continue
            return None
        i += 1
    return i, close


def _contains(words: Sequence[str], cue: Sequence[str]) -> bool:
    n = len(cue)
    return any(tuple(words[i : i + n]) == tuple(cue) for i in range(len(words) - n + 1))


def _clearly_negates(
    words: Sequence[str], cue: int, start: int, earlier: Sequence[Match], lexicon: Lexicon
) -> bool:
    """The negation at ``cue`` applies to a match at ``start`` when only "between" words,
    connectors ("or", "ni") or symptoms it also negated stand between them."""
    negated_spans = {i for m in earlier if m.negated for i in range(m.start, m.end)}
    between = [i for i in range(cue + 1, start) if i not in negated_spans]
    if len(between) > _MAX_BETWEEN:
        return False
    return all(words[i] in lexicon.between or words[i] in _CONNECTORS for i in between)


def _is_reassurance(words: Sequence[str], lexicon: Lexicon) -> bool:
    if tuple(words) in lexicon.reassurance:
        return True
    content = tuple(w for w in words if w not in lexicon.fillers and w not in lexicon.between)
    return (bool(content) and content in lexicon.reassurance) or (not content and bool(words))


def _only_partly_read(
    words: Sequence[str], matches: Sequence[Match], covered: set[int], lexicon: Lexicon
) -> bool:
    """An "expected"-only reading that leaves several words unexplained is not trusted."""
    data = load_triage_data()
    if any(data.symptoms[m.symptom].level != "expected" for m in matches if not m.negated):
        return False
    leftover = [
        w
        for i, w in enumerate(words)
        if i not in covered
        and w not in lexicon.fillers
        and w not in lexicon.between
        and w not in lexicon.negations
        and not w.isdigit()
    ]
    return len(leftover) >= _LEFTOVER_WORDS


@lru_cache(maxsize=4096)
def _close_words(word: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    if len(word) < _FUZZY_MIN_LETTERS or word in vocabulary:
        return ()
    return tuple(sorted(v for v in vocabulary if _one_edit(word, v)))


def _one_edit(a: str, b: str) -> bool:
    """True when a and b (both long enough, same first letter) differ by one letter wrong,
    missing, extra, or two neighbours swapped."""
    if a == b or min(len(a), len(b)) < _FUZZY_MIN_LETTERS - 1 or a[0] != b[0]:
        return False
    if max(len(a), len(b)) < _FUZZY_MIN_LETTERS or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def reading_to_dict(reading: PhraseReading, language: str = "en") -> dict[str, object]:
    """A JSON-ready mapping of one phrase reading, with the symptoms in plain words."""
    data = load_triage_data()

    def words(name: str) -> str:
        symptom = data.symptoms[name]
        return symptom.es if language == "es" else symptom.en

    return {
        "phrase": reading.text,
        "read_as": [
            {
                "symptom": m.symptom,
                "words": words(m.symptom),
                "level": data.symptoms[m.symptom].level,
                "matched": m.term,
                "close_spelling": m.close_spelling,
            }
            for m in reading.matches
            if not m.negated
        ],
        "not_present": [{"symptom": s, "words": words(s)} for s in reading.not_present],
        "negation_unclear": reading.negation_unclear,
        "reassurance": reading.reassurance,
        "unread": reading.unread,
    }
