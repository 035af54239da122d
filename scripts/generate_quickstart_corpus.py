"""Deterministic generator of the quickstart corpus: short fictional encyclopedic articles in DocRED format.

``python scripts/generate_quickstart_corpus.py`` rewrites ``train.json``, ``dev.json``, ``test.json`` and
``rel_info.json`` in ``paee_hf/quickstart/`` (``--output-dir`` writes them elsewhere); the package ships the files,
not this generator. Pure standard-library Python, one seeded ``random.Random``, no iteration over sets: the same seed
gives byte-identical files on every machine.

Every article is a biography, a company or a town, written from sentence templates (several per fact) over
invented names (first/last-name lists combined, invented towns, provinces, countries and companies). Each template
declares the facts its sentence states; the labels are exactly those facts plus two closures:

* ``P131`` (town -> province) always comes with its inverse ``P150``; ``P26`` (spouse) is symmetric.
* ``P17`` (country) is derived along ``P131`` and ``P159``: a town in a province of country K, and a company
  headquartered in a town of K, are in K. ``P131`` itself only points at provinces (countries are reached by P17).

Nothing else is inferred: being born in a town of K does not make a person a citizen of K, founding a company does
not make the founder an employee, and a town mentioned without its country has no ``P17``. Distractors (places of death,
towns someone moved to, twin towns, rivers, awards, works, numbers, other years) share entity types with the
arguments of real facts, so the relation must be read from the context. Evidence is the sentence that states the
fact, plus, when an argument is only referred to there ("she", "the town", "it"), the sentence of its last mention
before; a derived fact's evidence is the union of its premises' evidence.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The package's quickstart folder. Not imported from the package: this file also runs as a plain script, without
# importing paee_hf (and transformers).
OUTPUT_DIR = Path(__file__).resolve().parents[1] / "paee_hf" / "quickstart"
DEFAULT_SEED = 20240611
SPLIT_SIZES = {"train": 240, "dev": 60, "test": 60}

RELATION_NAMES = {
    "P17": "country",
    "P19": "place of birth",
    "P26": "spouse",
    "P27": "country of citizenship",
    "P69": "educated at",
    "P108": "employer",
    "P112": "founded by",
    "P131": "located in the administrative territorial entity",
    "P150": "contains administrative territorial entity",
    "P159": "headquarters location",
    "P569": "date of birth",
}

# Limits every article must meet (the generator retries an article until it does).
SENTENCES_PER_DOCUMENT = (3, 7)
WORDS_PER_DOCUMENT = (60, 160)
ENTITIES_PER_DOCUMENT = (8, 15)
MIN_FACTS_PER_DOCUMENT = 4
LAST_YEAR = 2023

_FEMALE_FIRST = (
    "Marta Ida Elena Clara Nora Hanna Lena Sofia Mira Alma Greta Vera Linnea Tove Agnes Irene Judith Helena Rosa "
    "Selma Leonie Maren Petra Silke Ines Lucia Freya Esther Katrin Dorothea Amalia Beatrix Camilla Edith Flora "
    "Hedda Johanna Karin Livia Margit"
).split()
_MALE_FIRST = (
    "Tomas Jonas Anton Emil Oskar Viktor Henrik Felix Matthias Lukas Aurel Bruno Casimir Dario Edvin Falk Gustav "
    "Hugo Ivo Jakob Konrad Leon Milan Niklas Otto Pavel Rafael Stefan Teodor Ulrich Valentin Walter Adrian "
    "Benedikt Cyril Dominik Erik Gregor Isak Julian"
).split()
_LAST = (
    "Keller Brandt Marlow Feld Ostrow Halvorsen Lindqvist Varga Novak Petrescu Aaltonen Berger Castell Dahl "
    "Falkner Gerritsen Hollis Iversen Jovanic Kessler Lorenz Moreau Nyberg Orlov Pellham Quint Rask Sandor Thorne "
    "Ulven Vance Wendt Zeller Ambrose Bellamy Corwin Dunmore Ellery Fenwick Grimaldi Harcourt Ingram Janssen Kovac "
    "Lindgren Mercer Norwood Okafor Prescott Radley Strand Tamm Underhill Voss Whitlock Aldous Barlow Crane "
    "Everett Forsyth Gallo Hale Kerr Lund Maddox Nilsen Ortega Quarles Rivas Sato Tanner Vidal Wexler Yates "
    "Achterberg Boros Calder Devane Eskola Farrow Galvan Hennig Jarvik Kopecky Lambrecht Moravec"
).split()
# Invented countries with their adjectives (a country is mentioned by either).
_COUNTRIES = (
    ("Veldoria", "Veldorian"), ("Kessaria", "Kessarian"), ("Norvania", "Norvanian"), ("Caldora", "Caldoran"),
    ("Dravenia", "Dravenian"), ("Estmere", "Estmerian"), ("Falravia", "Falravian"), ("Galdonia", "Galdonian"),
    ("Hestria", "Hestrian"), ("Ilvania", "Ilvanian"), ("Jorvenland", "Jorvenlandic"), ("Karvassa", "Karvassan"),
    ("Lorwynd", "Lorwyndish"), ("Marvella", "Marvellan"), ("Nedoria", "Nedorian"), ("Orvessa", "Orvessan"),
    ("Pellaria", "Pellarian"), ("Quessany", "Quessanian"), ("Ravonia", "Ravonian"), ("Selvaria", "Selvarian"),
    ("Tarvonia", "Tarvonian"), ("Vaskeria", "Vaskerian"), ("Wendmark", "Wendmarkish"), ("Zelvonia", "Zelvonian"),
)
_PLACE_HEADS = (
    "Ard Bel Brenn Cor Dal Dun Eld Fal Gar Hal Ing Kel Lor Mar Nor Oss Pel Quen Ros Sal Tor Ulv Ves Wyn Yar Zan "
    "Ast Bran Cael Dorn Ev Fenn Grim Hol Ivr Jarn Kast Lind Mor Nev"
).split()
_PLACE_MIDDLES = ("", "", "en", "er", "a", "il", "o")
_TOWN_TAILS = (
    "holm vard mere wick stad ford by gard haven moor dale brook mouth field rig sund vik orra ava essa"
).split()
_PROVINCE_TAILS = "vale march shire reach mark wold ern land".split()
_TOWN_PREFIXES = ("Port", "Upper", "Lower", "North", "Saint")
_STEM_TAILS = "ex ion ara ent ova ix ano eon ium ora".split()
_RIVER_TAILS = "ava ine ona ella isa".split()

# (occupation, field of study, what their work is known for)
_OCCUPATIONS = (
    ("architect", "architecture", "public housing"), ("chemist", "chemistry", "industrial catalysts"),
    ("painter", "fine art", "coastal landscapes"), ("novelist", "literature", "historical novels"),
    ("engineer", "civil engineering", "suspension bridges"), ("economist", "economics", "labour markets"),
    ("physician", "medicine", "childhood diseases"), ("composer", "music", "sacred music"),
    ("historian", "history", "medieval trade"), ("journalist", "journalism", "investigative reporting"),
    ("botanist", "botany", "alpine flora"), ("sculptor", "sculpture", "bronze figures"),
    ("mathematician", "mathematics", "number theory"), ("lawyer", "law", "constitutional law"),
    ("photographer", "photography", "street photography"), ("linguist", "linguistics", "regional dialects"),
    ("geologist", "geology", "volcanic rocks"), ("astronomer", "astronomy", "variable stars"),
)
# (company name suffix, description without article, earliest plausible founding year)
_INDUSTRIES = (
    ("Instruments", "manufacturer of measuring instruments", 1850), ("Textiles", "textile manufacturer", 1850),
    ("Shipping", "shipping company", 1850), ("Bank", "commercial bank", 1850), ("Motors", "car manufacturer", 1895),
    ("Pharmaceuticals", "pharmaceutical company", 1870), ("Airways", "airline", 1925),
    ("Foods", "food producer", 1850), ("Energy", "energy company", 1890), ("Publishing", "publishing house", 1850),
    ("Rail", "railway operator", 1850), ("Software", "software company", 1970), ("Steel", "steel producer", 1850),
    ("Brewery", "brewery", 1850), ("Telecom", "telecommunications company", 1890),
    ("Optics", "maker of optical equipment", 1850),
)
_DEPARTMENTS = ("research", "design", "finance", "export", "legal", "planning")
_ROLES = "engineer accountant designer researcher manager analyst chemist translator editor lawyer".split()
_MONTHS = "January February March April May June July August September October November December".split()
_TOWN_WORDS = ("town", "city", "village", "port town", "market town")
_PROVINCE_WORDS = ("province", "region", "district")
_DIRECTIONS = ("north", "south", "east", "west", "north-east", "south-west")
_WORK_ADJECTIVES = "Silent Northern Long Bright Hidden Last Quiet Distant Golden Winter".split()
_WORK_NOUNS = "Harbour Orchard Road Bridge Garden Tide Lantern Valley Mirror Season".split()
_NUMBER_WORDS = ("two", "three", "four", "five")


@dataclass(eq=False)
class _Entity:
    """A fictional entity; ``eq=False`` so that two entities with equal fields stay distinct dictionary keys."""

    name: str
    type: str
    short: str | None = None  # later mentions: surname, company stem
    adjective: str | None = None  # countries: "Veldorian"
    pronoun: str = "it"
    possessive: str = "its"
    preposition: str = "in"  # TIME: "on 4 June 1961", "in 1961"
    # The fictional world (true, but labelled only where the text states it): a town's province and country,
    # a province's country, a company's country and headquarters town.
    province: _Entity | None = None
    country: _Entity | None = None
    headquarters: _Entity | None = None


@dataclass(frozen=True)
class _Ref:
    """A mention to write: the entity and the words that name it."""

    entity: _Entity
    surface: str


Piece = str | _Ref


@dataclass
class _Geo:
    """How a town's location is written: the words after the town's name and the facts they state."""

    pieces: list[Piece] = field(default_factory=list)
    facts: list[tuple[_Entity, str, _Entity]] = field(default_factory=list)

    @property
    def inner(self) -> list[Piece]:
        """The pieces closed by a comma, for a location in the middle of a sentence."""
        return [*self.pieces, ","] if self.pieces else []


class _NameBank:
    """Invents names; towns, provinces, company stems and people are unique over the whole corpus."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._used: set[str] = set()

    def _fresh(self, make) -> str:
        for _ in range(10_000):
            name = make()
            if name not in self._used:
                self._used.add(name)
                return name
        raise RuntimeError("the name lists are exhausted; add syllables to generate_quickstart_corpus.py")

    def _stem(self, tails: Sequence[str]) -> str:
        rng = self.rng
        return (rng.choice(_PLACE_HEADS) + rng.choice(_PLACE_MIDDLES) + rng.choice(tails)).capitalize()

    def person(self, avoid: Sequence[_Entity] = ()) -> _Entity:
        """A new person whose first name and surname both differ from those of ``avoid``."""
        rng = self.rng
        female = rng.random() < 0.5
        taken = {word for other in avoid for word in other.name.split()}
        while True:
            first = rng.choice(_FEMALE_FIRST if female else _MALE_FIRST)
            last = rng.choice(_LAST)
            full = f"{first} {last}"
            if first not in taken and last not in taken and full not in self._used:
                self._used.add(full)
                return _Entity(full, "PER", short=last, pronoun="she" if female else "he",
                               possessive="her" if female else "his")

    def town(self, province: _Entity | None, country: _Entity) -> _Entity:
        def make() -> str:
            stem = self._stem(_TOWN_TAILS)
            return f"{self.rng.choice(_TOWN_PREFIXES)} {stem}" if self.rng.random() < 0.12 else stem
        return _Entity(self._fresh(make), "LOC", province=province, country=country)

    def province(self, country: _Entity) -> _Entity:
        return _Entity(self._fresh(lambda: self._stem(_PROVINCE_TAILS)), "LOC", country=country)

    def river(self) -> _Entity:
        return _Entity(self._fresh(lambda: self._stem(_RIVER_TAILS)), "LOC")

    def company(self, industry: str, country: _Entity, headquarters: _Entity) -> _Entity:
        stem = self._fresh(lambda: self._stem(_STEM_TAILS))
        return _Entity(f"{stem} {industry}", "ORG", short=stem, country=country, headquarters=headquarters)

    def university(self) -> _Entity:
        stem = self._fresh(lambda: self._stem(_TOWN_TAILS))
        pattern = self.rng.choice(("{} University", "{} Institute of Technology", "{} Polytechnic", "{} College",
                                   "{} School of Economics"))
        return _Entity(pattern.format(stem), "ORG")

    def award(self) -> _Entity:
        stem = self._fresh(lambda: self._stem(_STEM_TAILS))
        return _Entity(f"{stem} {self.rng.choice(('Prize', 'Medal', 'Award'))}", "MISC")

    def work(self) -> _Entity:
        return _Entity(f"The {self.rng.choice(_WORK_ADJECTIVES)} {self.rng.choice(_WORK_NOUNS)}", "MISC")

    def product(self) -> _Entity:
        return _Entity(f"{self._fresh(lambda: self._stem(_STEM_TAILS))} {self.rng.randrange(2, 9)}00", "MISC")

    def countries(self, count: int) -> list[_Entity]:
        """``count`` different countries (countries recur over the corpus, as in real encyclopedias)."""
        return [_Entity(name, "LOC", adjective=adjective) for name, adjective in self.rng.sample(_COUNTRIES, count)]

    def other_country(self, country: _Entity) -> _Entity:
        """A country other than ``country``."""
        name, adjective = self.rng.choice([pair for pair in _COUNTRIES if pair[0] != country.name])
        return _Entity(name, "LOC", adjective=adjective)


class _Rejected(Exception):
    """The article being written cannot be completed; it is discarded and written again with fresh draws."""


class _ArticleBuilder:
    """Collects the sentences, mentions and stated facts of one article and turns them into a DocRED document."""

    def __init__(self, title: str, rng: random.Random, people: Sequence[_Entity] = ()):
        self.title = title
        self.rng = rng
        self.people = list(people)  # persons of this article: no two share a first name or a surname
        self.sentences: list[list[str]] = []
        self._mentions: dict[_Entity, list[tuple[int, int, int, str]]] = {}
        self._facts: dict[tuple[_Entity, str, _Entity], list[int]] = {}
        self._literals: set[str] = set()  # TIME/NUM surfaces already used: one entity per surface

    # -- references -----------------------------------------------------------------------------------------
    def full(self, entity: _Entity) -> _Ref:
        return _Ref(entity, entity.name)

    def name(self, entity: _Entity) -> _Ref:
        """Full name on the first mention, mostly the short form (surname, company stem) after it."""
        if entity in self._mentions and entity.short and self.rng.random() < 0.85:
            return _Ref(entity, entity.short)
        return _Ref(entity, entity.name)

    def adjective(self, country: _Entity) -> _Ref:
        return _Ref(country, country.adjective)

    def subject(self, entity: _Entity, pronoun: str | None = None) -> Piece:
        """The entity as subject of a later sentence: a pronoun / noun phrase (not a mention) or its name."""
        if entity in self._mentions and self.rng.random() < 0.6:
            return pronoun or entity.pronoun
        return self.name(entity)

    def new_person(self, bank: _NameBank) -> _Entity:
        """A person whose first name and surname differ from every other person of this article."""
        person = bank.person(avoid=self.people)
        self.people.append(person)
        return person

    # -- literals -------------------------------------------------------------------------------------------
    def year(self, low: int, high: int) -> _Entity:
        """A year in [low, high], never after :data:`LAST_YEAR`."""
        high = min(high, LAST_YEAR)
        return self._literal(lambda: str(self.rng.randint(min(low, high), high)), "TIME", "in")

    def date(self, year_low: int, year_high: int) -> _Entity:
        """A TIME entity: a full date (60 %), a month and year, or a year."""
        rng = self.rng
        kind = rng.random()
        if kind < 0.6:
            return self._literal(lambda: f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} "
                                         f"{rng.randint(year_low, year_high)}", "TIME", "on")
        if kind < 0.7:
            return self._literal(lambda: f"{rng.choice(_MONTHS)} {rng.randint(year_low, year_high)}", "TIME", "in")
        return self.year(year_low, year_high)

    def number(self, low: int, high: int, step: int = 1) -> _Entity:
        return self._literal(lambda: f"{self.rng.randrange(low, high, step):,}", "NUM", "")

    def count_word(self) -> _Entity:
        return self._literal(lambda: self.rng.choice(_NUMBER_WORDS), "NUM", "")

    def _literal(self, make, entity_type: str, preposition: str) -> _Entity:
        for _ in range(100):
            surface = make()
            if surface not in self._literals:
                self._literals.add(surface)
                return _Entity(surface, entity_type, preposition=preposition)
        raise _Rejected(f"no unused {entity_type} value left")  # e.g. a fixed year already taken by another event

    # -- writing --------------------------------------------------------------------------------------------
    def say(self, *pieces: Piece) -> int:
        """Append one sentence made of plain text (split on spaces) and mentions; return its sentence id."""
        sent_id = len(self.sentences)
        words: list[str] = []
        for piece in pieces:
            if isinstance(piece, _Ref):
                start = len(words)
                words.extend(piece.surface.split())
                self._mentions.setdefault(piece.entity, []).append((sent_id, start, len(words), piece.surface))
            else:
                words.extend(piece.split())
        words[0] = words[0][0].upper() + words[0][1:]
        self.sentences.append(words)
        return sent_id

    def state(self, sent_id: int, head: _Entity, relation: str, tail: _Entity) -> None:
        """Record a fact stated by sentence ``sent_id`` (with P150 for P131 and both directions of P26)."""
        evidence = sorted({sent_id, self._antecedent(head, sent_id), self._antecedent(tail, sent_id)})
        self._add(head, relation, tail, evidence)
        if relation == "P131":
            self._add(tail, "P150", head, evidence)
        elif relation == "P26":
            self._add(tail, "P26", head, evidence)

    def state_all(self, sent_id: int, facts: Sequence[tuple[_Entity, str, _Entity]]) -> None:
        for head, relation, tail in facts:
            self.state(sent_id, head, relation, tail)

    def _antecedent(self, entity: _Entity, sent_id: int) -> int:
        """``sent_id`` when the entity is mentioned there, else the sentence of its last mention before."""
        sentences = [mention[0] for mention in self._mentions.get(entity, ()) if mention[0] <= sent_id]
        if not sentences:
            raise RuntimeError(f"template bug in {self.title!r}: {entity.name!r} is referred to before any mention")
        return sent_id if sent_id in sentences else max(sentences)

    def _add(self, head: _Entity, relation: str, tail: _Entity, evidence: list[int]) -> None:
        # A fact stated again ("Brennholm, her birthplace, ...") keeps one label with the evidence of both.
        key = (head, relation, tail)
        self._facts[key] = sorted(set(self._facts.get(key, ())) | set(evidence))

    def _derive_countries(self) -> None:
        """P17 along P131 (town -> province -> country) and P159 (company -> town -> country)."""
        changed = True
        while changed:
            changed = False
            facts = list(self._facts.items())
            for (head, relation, middle), evidence in facts:
                if relation not in ("P131", "P159"):
                    continue
                for (inner, inner_relation, country), inner_evidence in facts:
                    if inner is middle and inner_relation == "P17" and (head, "P17", country) not in self._facts:
                        self._facts[(head, "P17", country)] = sorted(set(evidence) | set(inner_evidence))
                        changed = True

    @property
    def word_count(self) -> int:
        return sum(len(sentence) for sentence in self.sentences)

    def document(self) -> dict:
        """The DocRED document: entities in order of first mention, labels sorted by (h, t, r)."""
        self._derive_countries()
        order = {entity: index for index, entity in enumerate(self._mentions)}
        vertex_set = [
            [{"name": surface, "pos": [start, end], "sent_id": sent_id, "type": entity.type}
             for sent_id, start, end, surface in sorted(mentions)]
            for entity, mentions in self._mentions.items()
        ]
        labels = sorted(
            ({"h": order[head], "t": order[tail], "r": relation, "evidence": evidence}
             for (head, relation, tail), evidence in self._facts.items()),
            key=lambda label: (label["h"], label["t"], label["r"]),
        )
        return {"title": self.title, "sents": self.sentences, "vertexSet": vertex_set, "labels": labels}

    def fits(self) -> bool:
        return (SENTENCES_PER_DOCUMENT[0] <= len(self.sentences) <= SENTENCES_PER_DOCUMENT[1]
                and WORDS_PER_DOCUMENT[0] <= self.word_count <= WORDS_PER_DOCUMENT[1]
                and ENTITIES_PER_DOCUMENT[0] <= len(self._mentions) <= ENTITIES_PER_DOCUMENT[1]
                and len(self._facts) >= MIN_FACTS_PER_DOCUMENT)


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def _geo(b: _ArticleBuilder, town: _Entity, mode: str) -> _Geo:
    """Words that locate ``town`` right after its name, and the facts they state.

    Modes: ``"full"`` (province and its country), ``"province"`` (province only: its country may follow in a
    later sentence), ``"country"`` (towns without a province), ``"none"``.
    """
    rng = b.rng
    kind = rng.choice(_TOWN_WORDS)
    if mode == "none":
        return _Geo()
    if mode == "country":
        pieces = [",", b.name(town.country)] if rng.random() < 0.5 else [f", {_article(kind)} {kind} in",
                                                                          b.name(town.country)]
        return _Geo(pieces, [(town, "P17", town.country)])
    province = town.province
    if mode == "province":
        return _Geo([f", {_article(kind)} {kind} in", b.name(province)], [(town, "P131", province)])
    if rng.random() < 0.5:
        pieces = [f", {_article(kind)} {kind} in the", b.name(province), rng.choice(_PROVINCE_WORDS), "of",
                  b.name(province.country)]
    else:
        pieces = [f", {_article(kind)} {kind} in", b.name(province), ",", b.name(province.country)]
    return _Geo(pieces, [(town, "P131", province), (province, "P17", province.country)])


def _location_predicate(b: _ArticleBuilder, town: _Entity, mode: str) -> _Geo:
    """``lies in ...``: the same facts as :func:`_geo` (mode ``"none"`` excluded), as a verb phrase."""
    rng = b.rng
    if mode == "country":
        return _Geo(["lies in the", rng.choice(_DIRECTIONS), "of", b.name(town.country)],
                    [(town, "P17", town.country)])
    province = town.province
    if mode == "province":
        return _Geo(["lies in", b.name(province)], [(town, "P131", province)])
    return _Geo(["lies in the", b.name(province), rng.choice(_PROVINCE_WORDS), "of", b.name(province.country)],
                [(town, "P131", province), (province, "P17", province.country)])


def _geo_mode(rng: random.Random, town: _Entity) -> str:
    if town.province is None:
        return rng.choice(("country", "country", "none"))
    return rng.choice(("full", "full", "province", "province", "none"))


def _province_country_sentence(b: _ArticleBuilder, province: _Entity, person: _Entity | None = None,
                               earliest_year: int = 1950) -> None:
    """A later sentence that gives a province's country, completing a town's location across sentences.

    With ``person``, one variant has them return there (no earlier than ``earliest_year``).
    """
    rng = b.rng
    direction = rng.choice(_DIRECTIONS)
    variant = rng.randrange(3 if person is not None else 2)
    if variant == 0:
        s = b.say(b.name(province), f"is a {rng.choice(_PROVINCE_WORDS)} in the {direction} of",
                  b.name(province.country), "known for its forests and lakes .")
    elif variant == 1:
        s = b.say(b.name(province), ", which lies in the", direction, "of", b.name(province.country),
                  ", has about", b.full(b.number(200_000, 2_000_000, 1000)), "inhabitants .")
    else:
        s = b.say("In", b.full(b.year(earliest_year, earliest_year + 40)), ",", b.subject(person), "returned to",
                  b.name(province),
                  f", a {rng.choice(_PROVINCE_WORDS)} in the {direction} of", b.name(province.country), ".")
    b.state(s, province, "P17", province.country)


def _after(plan: list, prerequisite, step, rng: random.Random) -> None:
    """Insert ``step`` into ``plan`` at a random position after ``prerequisite``."""
    plan.insert(rng.randint(plan.index(prerequisite) + 1, len(plan)), step)


def _write_biography(b: _ArticleBuilder, bank: _NameBank, person: _Entity) -> None:
    """Introduction, birth, then some of: education, citizenship, career, honours, marriage, death."""
    rng = b.rng
    occupation, field_of_study, topic = rng.choice(_OCCUPATIONS)
    citizenship, other_country, third_country = bank.countries(3)
    birth_country = citizenship if rng.random() < 0.7 else other_country
    birth_province = bank.province(birth_country) if rng.random() < 0.65 else None
    birth_town = bank.town(birth_province, birth_country)
    birth_year = rng.randint(1900, 1985)
    birth = b.date(birth_year, birth_year)
    alive = birth_year > 1960 or (birth_year > 1940 and rng.random() < 0.5)
    if not alive:
        death_year = rng.randint(birth_year + 55, min(birth_year + 95, LAST_YEAR))
        death = b.date(death_year, death_year)
        death_town = bank.town(None, third_country if rng.random() < 0.5 else citizenship)
    is_ = "is" if alive else "was"
    mode = _geo_mode(rng, birth_town)
    stated: set[str] = set()  # which of dob, pob, citizenship, death the text has given
    birth_geo = _Geo()  # the location words written with the birth town (set when they are written)

    # Introduction.
    variant = rng.randrange(5)
    if variant == 0:
        if alive:
            s = b.say(b.full(person), "( born", b.full(birth), ") is", _article(citizenship.adjective),
                      b.adjective(citizenship), occupation, ".")
        else:
            s = b.say(b.full(person), "(", b.full(birth), "-", b.full(death), ") was",
                      _article(citizenship.adjective), b.adjective(citizenship), occupation, ".")
            stated.add("death")
        b.state(s, person, "P569", birth)
        b.state(s, person, "P27", citizenship)
        stated |= {"dob", "citizenship"}
    elif variant == 1:
        if alive:
            s = b.say(b.full(person), "( born", b.full(birth), "in", b.full(birth_town), ") is",
                      _article(occupation), occupation, ".")
        else:
            s = b.say(b.full(person), "( born", b.full(birth), "in", b.full(birth_town), "; died", b.full(death),
                      "in", b.full(death_town), ") was", _article(occupation), occupation, ".")
            stated.add("death")
        b.state(s, person, "P569", birth)
        b.state(s, person, "P19", birth_town)
        stated |= {"dob", "pob"}
    elif variant == 2:
        birth_geo = _geo(b, birth_town, mode)
        s = b.say(b.full(person), is_, _article(citizenship.adjective), b.adjective(citizenship), occupation,
                  "who was born in", b.full(birth_town), *birth_geo.pieces, ".")
        b.state(s, person, "P27", citizenship)
        b.state(s, person, "P19", birth_town)
        b.state_all(s, birth_geo.facts)
        stated |= {"citizenship", "pob"}
    elif variant == 3:
        s = b.say(b.full(person), is_, _article(citizenship.adjective), b.adjective(citizenship), occupation,
                  f"known for {person.possessive} work on {topic} .")
        b.state(s, person, "P27", citizenship)
        stated.add("citizenship")
    else:
        b.say(b.full(person), is_, _article(occupation), occupation, f"known for {person.possessive} work on",
              f"{topic} .")

    # Birth: whatever the introduction left out.
    if "pob" not in stated:
        birth_geo = _geo(b, birth_town, mode)
        grew_up = bank.town(None, birth_country)
        if "dob" not in stated and rng.random() < 0.5:
            s = b.say(b.subject(person), "was born", birth.preposition, b.full(birth), "in", b.name(birth_town),
                      *birth_geo.pieces, ".")
        elif "dob" not in stated:
            s = b.say(b.subject(person), "was born in", b.name(birth_town), *birth_geo.inner, birth.preposition,
                      b.full(birth), ", and grew up in", b.full(grew_up), ".")
        elif rng.random() < 0.5:
            s = b.say("Born in", b.name(birth_town), *birth_geo.pieces, ",", b.subject(person), "grew up in",
                      b.full(grew_up), ".")
        else:
            s = b.say(b.subject(person), "was born and raised in", b.name(birth_town), *birth_geo.pieces, ".")
        if "dob" not in stated:
            b.state(s, person, "P569", birth)
        b.state(s, person, "P19", birth_town)
        b.state_all(s, birth_geo.facts)
    elif "dob" not in stated:
        s = b.say(b.subject(person), "was born", birth.preposition, b.full(birth), "and grew up near",
                  b.full(bank.town(None, birth_country)), ".")
        b.state(s, person, "P569", birth)

    def birthplace() -> None:
        """The birth town's location, when the introduction named the town without it."""
        location = _location_predicate(b, birth_town, mode)
        s = b.say(b.name(birth_town), f", {person.possessive} birthplace ,", *location.pieces, ".")
        b.state(s, person, "P19", birth_town)
        b.state_all(s, location.facts)

    def completes_location() -> None:
        _province_country_sentence(b, birth_province, person, earliest_year=birth_year + 20)

    def education() -> None:
        university = bank.university()
        variant = rng.randrange(4)
        if variant == 0:
            s = b.say(b.subject(person), f"studied {field_of_study} at", b.full(university), ", graduating in",
                      b.full(b.year(birth_year + 20, birth_year + 27)), f"with a thesis on {topic} .")
        elif variant == 1:
            s = b.say("After graduating from", b.full(university), "in",
                      b.full(b.year(birth_year + 20, birth_year + 27)), ",", b.subject(person), "moved to",
                      b.full(bank.town(None, citizenship)), ".")
        elif variant == 2:
            s = b.say(b.subject(person), f"received a doctorate in {field_of_study} from", b.full(university),
                      "in", b.full(b.year(birth_year + 25, birth_year + 32)), ".")
        else:
            mentor = b.new_person(bank)
            s = b.say(b.subject(person), f"studied {field_of_study} at", b.full(university), "under",
                      b.full(mentor), ", who taught there from", b.full(b.year(birth_year - 5, birth_year + 10)), ".")
            b.state(s, mentor, "P108", university)
        b.state(s, person, "P69", university)
        alma_mater.append(university)

    def career() -> None:
        industry, description, _ = rng.choice(_INDUSTRIES)
        country = rng.choice((citizenship, other_country))
        headquarters = bank.town(None, country)
        company = bank.company(industry, country, headquarters)
        year = b.year(birth_year + 22, birth_year + 40)
        variant = rng.randrange(6)
        if variant == 0:
            role = rng.choice(_ROLES)
            s = b.say("In", b.full(year), ",", b.subject(person), "joined", b.full(company), "as", _article(role),
                      role, ", and later headed its", rng.choice(_DEPARTMENTS), "department .")
            b.state(s, person, "P108", company)
        elif variant == 1:
            s = b.say(b.subject(person), "worked for", b.full(company), "from", b.full(year), "to",
                      b.full(b.year(birth_year + 41, birth_year + 55)), ".")
            b.state(s, person, "P108", company)
        elif variant == 2 and alma_mater and rng.random() < 0.5:
            # Studied and taught at the same university: two relations for one pair.
            s = b.say(b.subject(person), f"later taught {field_of_study} at", b.name(alma_mater[0]), ".")
            b.state(s, person, "P108", alma_mater[0])
        elif variant == 2:
            university = bank.university()
            s = b.say("From", b.full(year), ",", b.subject(person), f"taught {field_of_study} at",
                      b.full(university), ".")
            b.state(s, person, "P108", university)
        elif variant == 3:
            s = b.say("In", b.full(year), ",", b.subject(person), "founded", b.full(company), ",",
                      _article(description), description, "based in", b.full(headquarters), ".")
            b.state(s, company, "P112", person)
            b.state(s, company, "P159", headquarters)
        elif variant == 4:
            partner = b.new_person(bank)
            s = b.say(b.subject(person), "and", b.full(partner), "founded", b.full(company), "in", b.full(year), ".")
            b.state(s, company, "P112", person)
            b.state(s, company, "P112", partner)
        else:
            second = bank.company(rng.choice(_INDUSTRIES)[0], country, headquarters)
            s = b.say(b.subject(person), "left", b.full(company), "in", b.full(year), "to join", b.full(second), ".")
            b.state(s, person, "P108", company)
            b.state(s, person, "P108", second)

    def reputation() -> None:
        """A sentence without entities: length and context, no facts."""
        if rng.random() < 0.5:
            b.say(b.subject(person), is_, f"regarded as one of the most influential {occupation}s of",
                  f"{person.possessive} generation .")
        else:
            b.say(f"{person.possessive} early work on {topic} drew wide attention , and critics praised its",
                  "clarity and ambition .")

    def honours() -> None:
        """A distractor sentence: awards, works and colleagues stand in no relation of the inventory."""
        variant = rng.randrange(3)
        if variant == 0:
            b.say(b.subject(person), "received the", b.full(bank.award()), "in",
                  b.full(b.year(birth_year + 30, birth_year + 60)), ".")
        elif variant == 1:
            b.say(b.subject(person), is_, "best known for", b.full(bank.work()), "(",
                  b.full(b.year(birth_year + 25, birth_year + 50)), ") .")
        else:
            b.say(b.subject(person), "collaborated with the", rng.choice(_OCCUPATIONS)[0],
                  b.full(b.new_person(bank)), "on", b.full(bank.work()), ".")

    def marriage() -> None:
        spouse = b.new_person(bank)
        spouse_occupation = rng.choice(_OCCUPATIONS)[0]
        variant = rng.randrange(3)
        if variant == 0:
            employer = bank.company(rng.choice(_INDUSTRIES)[0], citizenship, bank.town(None, citizenship))
            s = b.say(b.subject(person), "married", b.full(spouse), ",", _article(spouse_occupation),
                      spouse_occupation, "at", b.full(employer), ", in",
                      b.full(b.year(birth_year + 22, birth_year + 40)), ".")
            b.state(s, spouse, "P108", employer)
        elif variant == 1:
            s = b.say(b.subject(person), is_, "married to the", spouse_occupation, b.full(spouse), "; they",
                      "have" if alive else "had", b.full(b.count_word()), "children .")
        else:
            spouse_town = bank.town(None, citizenship)
            s = b.say("In", b.full(b.year(birth_year + 22, birth_year + 40)), ",", b.subject(person), "married",
                      b.full(spouse), ", who was born in", b.full(spouse_town), ".")
            b.state(s, spouse, "P19", spouse_town)
        b.state(s, person, "P26", spouse)

    def naturalisation() -> None:
        if birth_country is not citizenship and rng.random() < 0.6:
            s = b.say("In", b.full(b.year(birth_year + 20, birth_year + 50)), ",", b.subject(person),
                      "became a citizen of", b.name(citizenship), ".")
        else:
            s = b.say(b.subject(person), "holds" if alive else "held", b.adjective(citizenship), "citizenship .")
        b.state(s, person, "P27", citizenship)

    def passing() -> None:
        """Place and date of death: same types as place and date of birth, but no relation of the inventory."""
        geo = _geo(b, death_town, rng.choice(("country", "none")))
        s = b.say(b.subject(person), "died in", b.name(death_town), *geo.inner, death.preposition, b.full(death),
                  ".")
        b.state_all(s, geo.facts)

    alma_mater: list[_Entity] = []
    plan: list = []
    if "pob" in stated and not birth_geo.pieces and mode != "none" and rng.random() < 0.7:
        plan.append(birthplace)
    if rng.random() < 0.75:
        plan.append(education)
    if "citizenship" not in stated and rng.random() < 0.7:
        plan.append(naturalisation)
    plan.append(career)
    if rng.random() < 0.35:
        plan.append(career)
    if rng.random() < 0.4:
        plan.append(reputation)
    if rng.random() < 0.5:
        plan.append(honours)
    if rng.random() < 0.5:
        plan.append(marriage)
    if not alive and "death" not in stated and rng.random() < 0.8:
        plan.append(passing)
    if mode == "province" and (birth_geo.facts or birthplace in plan) and rng.random() < 0.8:
        if birthplace in plan:
            _after(plan, birthplace, completes_location, rng)
        else:
            plan.insert(rng.randint(0, len(plan)), completes_location)
    for step in plan:
        step()


def _write_company(b: _ArticleBuilder, bank: _NameBank, company: _Entity, description: str, earliest: int) -> None:
    """Introduction, founding, headquarters, then some of: founder background, leadership, size, product, rival."""
    rng = b.rng
    country, headquarters = company.country, company.headquarters
    other_country = bank.other_country(country)
    founded = rng.randint(earliest, 2005)
    founders = [b.new_person(bank)]
    if rng.random() < 0.4:
        founders.append(b.new_person(bank))
    mode = _geo_mode(rng, headquarters)
    hq_geo = _Geo()
    stated: set[str] = set()  # which of hq, year, founders the text has given

    def its(noun: str) -> list[Piece]:
        """``its noun`` or ``the noun of <company>`` (a pronoun is not a mention)."""
        return [f"its {noun}"] if rng.random() < 0.5 else [f"the {noun} of", b.name(company)]

    variant = rng.randrange(4)
    if variant == 0:
        s = b.say(b.full(company), "is", _article(country.adjective), b.adjective(country), description,
                  "headquartered in", b.full(headquarters), ".")
        b.state(s, company, "P17", country)
        b.state(s, company, "P159", headquarters)
        stated.add("hq")
    elif variant == 1:
        hq_geo = _geo(b, headquarters, mode)
        s = b.say(b.full(company), "is", _article(description), description, "based in", b.full(headquarters),
                  *hq_geo.pieces, ".")
        b.state(s, company, "P159", headquarters)
        b.state_all(s, hq_geo.facts)
        stated.add("hq")
    elif variant == 2:
        s = b.say(b.full(company), "is", _article(country.adjective), b.adjective(country), description,
                  "founded in", b.full(b.year(founded, founded)), ".")
        b.state(s, company, "P17", country)
        stated.add("year")
    else:
        s = b.say(b.full(company), "is", _article(description), description, "founded by", b.full(founders[0]),
                  "in", b.full(b.year(founded, founded)), ".")
        b.state(s, company, "P112", founders[0])
        stated |= {"year", "founders"}

    def founding() -> None:
        when = [] if "year" in stated else ["in", b.full(b.year(founded, founded))]
        variant = rng.randrange(3)
        if variant == 0 and len(founders) == 2:
            s = b.say("The company was founded", *when, "by", b.full(founders[0]), "and", b.full(founders[1]), ".")
        elif variant == 0:
            # The town of founding is not the headquarters: same types, no relation.
            s = b.say("The company was founded in", b.full(bank.town(None, country)), *when, "by",
                      b.full(founders[0]), ".")
        elif variant == 1:
            names = [b.full(founders[0]), "and", b.full(founders[1])] if len(founders) == 2 else [b.full(founders[0])]
            s = b.say(b.subject(company), "was established by", *names, *when, ".")
        else:
            previous = bank.company(rng.choice(_INDUSTRIES)[0], other_country, bank.town(None, other_country))
            del founders[1:]
            s = b.say(b.full(founders[0]), "founded the company", *when, "after leaving", b.full(previous), ".")
            b.state(s, founders[0], "P108", previous)
        for founder in founders:
            b.state(s, company, "P112", founder)

    def headquarters_sentence() -> None:
        nonlocal hq_geo
        hq_geo = _geo(b, headquarters, mode)
        variant = rng.randrange(3)
        if variant == 0:
            s = b.say(*its("headquarters"), "are in", b.full(headquarters), *hq_geo.pieces, ".")
        elif variant == 1:
            s = b.say(b.subject(company, "the company"), "moved its head office to", b.full(headquarters),
                      *hq_geo.inner, "in", b.full(b.year(founded + 5, 2018)), ".")
        else:
            s = b.say(b.subject(company), "has been based in", b.full(headquarters), *hq_geo.inner, "since",
                      b.full(b.year(founded + 5, 2018)), ".")
        b.state(s, company, "P159", headquarters)
        b.state_all(s, hq_geo.facts)

    def completes_location() -> None:
        _province_country_sentence(b, headquarters.province)

    def founder_background() -> None:
        founder = founders[0]
        variant = rng.randrange(3)
        if variant == 0:
            university = bank.university()
            previous = bank.company(rng.choice(_INDUSTRIES)[0], country, bank.town(None, country))
            s = b.say(b.name(founder), ", a graduate of", b.full(university), ", had previously worked for",
                      b.full(previous), ".")
            b.state(s, founder, "P69", university)
            b.state(s, founder, "P108", previous)
        elif variant == 1:
            town = bank.town(None, country)
            birth = b.year(founded - 50, founded - 22)
            s = b.say(b.name(founder), "was born in", b.full(town), "in", b.full(birth), ".")
            b.state(s, founder, "P19", town)
            b.state(s, founder, "P569", birth)
        else:
            university = bank.university()
            s = b.say(b.name(founder), f"studied {rng.choice(_OCCUPATIONS)[1]} at", b.full(university),
                      "before founding the company .")
            b.state(s, founder, "P69", university)

    def leadership() -> None:
        chief = b.new_person(bank)
        if rng.random() < 0.5:
            s = b.say("Since", b.full(b.year(2006, 2019)), ", the company has been led by", b.full(chief),
                      ", who joined it in", b.full(b.year(1985, 2005)), ".")
        else:
            s = b.say(b.full(chief), "has been the chief executive of", b.name(company), "since",
                      b.full(b.year(2006, 2019)), ".")
        b.state(s, chief, "P108", company)

    def growth() -> None:
        """A sentence without entities: length and context, no facts."""
        b.say(rng.choice((
            "The company began as a small family workshop and grew quickly in the following decades .",
            "After several years of heavy losses , the company was restructured and returned to profit .",
            "For most of its history the company has been owned by its employees through a cooperative trust .",
        )))

    def size() -> None:
        if rng.random() < 0.5:
            b.say("As of", b.full(b.year(2010, 2020)), ", the company employed about",
                  b.full(b.number(200, 40_000, 100)), "people .")
        else:
            b.say(b.subject(company), "has about", b.full(b.number(200, 40_000, 100)),
                  "employees and sells its products in", b.full(b.number(3, 60)), "countries .")

    def product() -> None:
        b.say(*its("best-known product"), "is the", b.full(bank.product()), ", introduced in",
              b.full(b.year(founded + 3, 2018)), ".")

    def rival() -> None:
        town = bank.town(None, other_country)
        competitor = bank.company(rng.choice(_INDUSTRIES)[0], other_country, town)
        s = b.say(*its("main competitor"), "is", b.full(competitor), ", which is based in", b.full(town), ".")
        b.state(s, competitor, "P159", town)

    plan: list = [] if "founders" in stated else [founding]
    if "hq" not in stated:
        plan.insert(rng.randint(0, len(plan)), headquarters_sentence)
    if rng.random() < 0.5:
        plan.append(founder_background)
    for step, chance in ((growth, 0.4), (leadership, 0.6), (size, 0.5), (product, 0.45), (rival, 0.5)):
        if rng.random() < chance:
            plan.append(step)
    if mode == "province" and (hq_geo.facts or headquarters_sentence in plan) and rng.random() < 0.8:
        if headquarters_sentence in plan:
            _after(plan, headquarters_sentence, completes_location, rng)
        else:
            plan.insert(rng.randint(0, len(plan)), completes_location)
    for step in plan:
        step()


def _write_town(b: _ArticleBuilder, bank: _NameBank, town: _Entity) -> None:
    """Introduction, then some of: location, history, population, economy, people born there, twin, distance."""
    rng = b.rng
    country, province = town.country, town.province
    other_country = bank.other_country(country)
    kind = rng.choice(_TOWN_WORDS)
    noun = "city" if kind == "city" else "town"
    located = True

    variant = rng.randrange(4) if province is not None else rng.choice((1, 3))
    if variant == 0:
        s = b.say(b.full(town), f"is {_article(kind)} {kind} in the", b.full(province),
                  rng.choice(_PROVINCE_WORDS), "of", b.full(country), ".")
        b.state_all(s, [(town, "P131", province), (province, "P17", country)])
    elif variant == 1:
        s = b.say(b.full(town), f"is {_article(kind)} {kind} in", b.full(country), ", on the",
                  b.full(bank.river()), "river .")
        b.state(s, town, "P17", country)
    elif variant == 2:
        s = b.say(b.full(town), "is the capital of", b.full(province), f", a {rng.choice(_PROVINCE_WORDS)} in the",
                  rng.choice(_DIRECTIONS), "of", b.full(country), ".")
        b.state_all(s, [(town, "P131", province), (province, "P17", country)])
    else:
        b.say(b.full(town), f"is {_article(kind)} {kind} on the", b.full(bank.river()), "river with about",
              b.full(b.number(2_000, 300_000, 100)), "inhabitants .")
        located = False

    def location() -> None:
        if province is not None and rng.random() < 0.5:
            s = b.say(f"The {noun} lies in", b.full(province), f", a {rng.choice(_PROVINCE_WORDS)} of",
                      b.full(country), ".")
            b.state_all(s, [(town, "P131", province), (province, "P17", country)])
        elif province is not None:
            s = b.say(f"The {noun} belongs to the", b.full(province), rng.choice(_PROVINCE_WORDS), ".")
            b.state(s, town, "P131", province)
            if rng.random() < 0.8:
                _after(plan, location, completes_location, rng)
        else:
            s = b.say(f"The {noun} lies in the", rng.choice(_DIRECTIONS), "of", b.full(country), ".")
            b.state(s, town, "P17", country)

    def completes_location() -> None:
        _province_country_sentence(b, province)

    def history() -> None:
        if rng.random() < 0.5:
            b.say(b.name(town), "was first mentioned in", b.full(b.year(900, 1500)), "and received town rights in",
                  b.full(b.year(1501, 1800)), ".")
        else:
            b.say(f"The {noun} was founded in", b.full(b.year(900, 1700)), "as a trading post .")

    def character() -> None:
        """A sentence without entities: length and context, no facts."""
        b.say(rng.choice((
            f"The old {noun} , with its narrow streets and timber-framed houses , attracts many visitors in summer .",
            f"The economy of the {noun} was long based on fishing , timber and the salt trade .",
            f"A railway line opened in the nineteenth century and connected the {noun} to the coast .",
        )))

    def population() -> None:
        if rng.random() < 0.5:
            b.say("At the", b.full(b.year(1990, 2020)), f"census , the {noun} had",
                  b.full(b.number(2_000, 300_000, 100)), "inhabitants .")
        else:
            b.say("Its population was", b.full(b.number(2_000, 300_000, 100)), "in", b.full(b.year(1995, 2020)),
                  ".")

    def economy() -> None:
        industry, description, earliest = rng.choice(_INDUSTRIES)
        company = bank.company(industry, country, town)
        if rng.random() < 0.5:
            founder = b.new_person(bank)
            s = b.say(b.full(company), ",", _article(description), description, "founded by", b.full(founder), "in",
                      b.full(b.year(earliest, 2005)), f", has its headquarters in the {noun} .")
            b.state(s, company, "P112", founder)
        else:
            s = b.say("The largest employer is", b.full(company), ", which is based in", b.name(town), ".")
        b.state(s, company, "P159", town)

    def people() -> None:
        first = b.new_person(bank)
        occupation = rng.choice(_OCCUPATIONS)[0]
        variant = rng.randrange(4)
        if variant == 0:
            second = b.new_person(bank)
            s = b.say("Notable people born in", b.name(town), "include the", occupation, b.full(first), "and the",
                      rng.choice(_OCCUPATIONS)[0], b.full(second), ".")
            b.state(s, first, "P19", town)
            b.state(s, second, "P19", town)
        elif variant == 1:
            birth = b.year(1900, 1995)
            s = b.say("The", occupation, b.full(first), f"was born in the {noun} in", b.full(birth), ".")
            b.state(s, first, "P19", town)
            b.state(s, first, "P569", birth)
        elif variant == 2:
            birth = b.year(1900, 1995)
            university = bank.university()
            s = b.say(b.full(first), ", who was born here in", b.full(birth), ", later studied at", b.full(university),
                      ".")
            b.state(s, first, "P19", town)
            b.state(s, first, "P569", birth)
            b.state(s, first, "P69", university)
        else:
            # Grew up there, born elsewhere or unknown: the person-town pair has no relation.
            birth = b.date(1900, 1995)
            s = b.say("The", occupation, b.full(first), "( born", b.full(birth), ") grew up in", b.name(town), ".")
            b.state(s, first, "P569", birth)

    def twin() -> None:
        partner = bank.town(None, other_country)
        geo = _geo(b, partner, "country")
        s = b.say(b.subject(town, f"the {noun}"), "is twinned with", b.full(partner), *geo.pieces, ".")
        b.state_all(s, geo.facts)

    def distance() -> None:
        neighbour = bank.town(None, country)
        if rng.random() < 0.5:
            b.say(b.subject(town), "lies about", b.full(b.number(5, 120)), "kilometres", rng.choice(_DIRECTIONS),
                  "of", b.full(neighbour), ".")
        else:
            b.say("The nearest larger city is", b.full(neighbour), ", some", b.full(b.number(5, 120)),
                  "kilometres to the", rng.choice(_DIRECTIONS), ".")

    plan: list = [] if located else [location]
    for step, chance in ((history, 0.5), (character, 0.4), (population, 0.5), (economy, 0.8), (people, 0.85),
                         (twin, 0.5), (distance, 0.45)):
        if rng.random() < chance:
            plan.append(step)
    index = 0
    while index < len(plan):  # location() may insert completes_location() after itself
        plan[index]()
        index += 1


def _write_article(bank: _NameBank, rng: random.Random) -> dict:
    """One article of a random kind that meets the size limits (retried with fresh draws until it does)."""
    kind = rng.choices(("biography", "company", "town"), weights=(45, 30, 25))[0]
    for _ in range(1000):
        if kind == "biography":
            person = bank.person()
            b = _ArticleBuilder(person.name, rng, people=[person])
        elif kind == "company":
            country = bank.countries(1)[0]
            province = bank.province(country) if rng.random() < 0.6 else None
            industry, description, earliest = rng.choice(_INDUSTRIES)
            company = bank.company(industry, country, bank.town(province, country))
            b = _ArticleBuilder(company.name, rng)
        else:
            country = bank.countries(1)[0]
            province = bank.province(country) if rng.random() < 0.7 else None
            town = bank.town(province, country)
            b = _ArticleBuilder(town.name, rng)
        try:
            if kind == "biography":
                _write_biography(b, bank, person)
            elif kind == "company":
                _write_company(b, bank, company, description, earliest)
            else:
                _write_town(b, bank, town)
        except _Rejected:
            continue
        if b.fits():
            return b.document()
    raise RuntimeError(f"no {kind} article met the size limits in 1000 tries; relax the limits or the templates")


def generate_corpus(seed: int = DEFAULT_SEED, sizes: dict[str, int] | None = None) -> dict[str, list[dict]]:
    """Generate the splits (train, dev, test, in that order, from one random stream).

    Args:
        seed: Seed of the ``random.Random`` that drives every choice.
        sizes: Documents per split (default :data:`SPLIT_SIZES`).

    Returns:
        Split name -> DocRED documents (all with labels). Titles are unique over all splits.
    """
    rng = random.Random(seed)
    bank = _NameBank(rng)
    return {split: [_write_article(bank, rng) for _ in range(count)]
            for split, count in (sizes or SPLIT_SIZES).items()}


def serialize_documents(documents: Sequence[dict]) -> str:
    """JSON list with one compact document per line (small files, readable diffs)."""
    lines = [json.dumps(document, ensure_ascii=False, separators=(",", ":")) for document in documents]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def serialize_relation_names() -> str:
    """``rel_info.json``: relation id -> readable name."""
    return json.dumps(RELATION_NAMES, indent=2) + "\n"


def write_corpus(output_dir: str | Path = OUTPUT_DIR, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write ``train.json``, ``dev.json``, ``test.json`` and ``rel_info.json`` into ``output_dir``.

    Bytes are written as they are (UTF-8, ``\n`` line ends on every platform) so that the files never differ.

    Returns:
        The written files.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    contents = {f"{split}.json": serialize_documents(documents) for split, documents in generate_corpus(seed).items()}
    contents["rel_info.json"] = serialize_relation_names()
    written = []
    for name, text in contents.items():
        path = output_dir / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python scripts/generate_quickstart_corpus.py [--output-dir DIR] [--seed N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=str(OUTPUT_DIR),
                        help="where to write the files (default: the package's quickstart folder)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    for path in write_corpus(args.output_dir, args.seed):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
