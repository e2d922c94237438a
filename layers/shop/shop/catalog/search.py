"""Pure rules of catalog search: the one tokenizer (index and query), stemming, typo matching, the index entries a
product owns, facets and in-memory pages.

The search index lives in CatalogTable next to the products (the repository writes it in the product's own
transaction, so it never disagrees with the product):

* posting  ``TOKEN#<first char of term>`` / ``<term>#<product_id>``: one per distinct term of a listed product.
  A query word is a prefix: ``begins_with(sk, word)`` over one partition finds every term starting with it.
* catalogue entry ``CATALOGUE`` / ``<category>#<product_id>``: one per listed product (browse with facets).
* vocabulary ``TERMS#<first char>`` / ``<term>``: every term ever indexed (only to find typo candidates).

Postings and catalogue entries carry what filtering, sorting and facets need (category, brand, price, creation
order), so a search reads small index items and then only the page's products. Attribute names differ from the
listing index keys on purpose: an index entry must never appear in the listing GSIs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from shop.catalog.listing import Sort, created_sk, price_sk
from shop.catalog.listing import tokenize as _raw_tokens
from shop.dynamo import decode_cursor, encode_cursor
from shop.errors import InvalidInput

MAX_INDEX_TERMS = 40  # per product: name, brand and category words first, then the description's
MAX_TERM_CHARS = 64
TYPO_MIN_LENGTH = 5  # words of 5+ letters may have one typo
MAX_TYPO_TERMS = 5  # index terms tried for one mistyped word
CATALOGUE_PK = "CATALOGUE"
POSTING_PREFIX = "TOKEN#"
VOCABULARY_PREFIX = "TERMS#"
# price bands of the facets, lower bounds in minor units (the last band is open-ended)
PRICE_BANDS = (0, 1000, 2500, 5000, 10000, 25000)
ENTRY_ATTRS = ("product_id", "category", "brand", "brand_key", "min_price_amount", "currency", "order_price",
               "order_newest")


# ---------------------------------------------------------------- tokenizer and stemmer

def _consonant(word: str, i: int) -> bool:
    ch = word[i]
    if ch in "aeiou":
        return False
    if ch == "y":
        return i == 0 or not _consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in the stem."""
    kinds = ["c" if _consonant(stem, i) else "v" for i in range(len(stem))]
    return sum(1 for a, b in pairwise(kinds) if a == "v" and b == "c")


def _has_vowel(stem: str) -> bool:
    return any(not _consonant(stem, i) for i in range(len(stem)))


def _cvc(word: str) -> bool:
    n = len(word)
    return (n >= 3 and _consonant(word, n - 3) and not _consonant(word, n - 2) and _consonant(word, n - 1)
            and word[-1] not in "wxy")


def stem(word: str) -> str:
    """Porter's step 1 (plurals, -ed, -ing, final y): inflections only, so 'grinders' -> 'grinder' and
    'kettles' -> 'kettle' while derived words keep their meaning. Only plain a-z words of 3+ letters change."""
    if len(word) < 3 or not word.isascii() or not word.isalpha():
        return word
    w = word
    # 1a
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    # 1b
    trimmed = False
    if w.endswith("eed"):
        if _measure(w[:-3]) > 0:
            w = w[:-1]
    elif w.endswith("ed") and _has_vowel(w[:-2]):
        w, trimmed = w[:-2], True
    elif w.endswith("ing") and _has_vowel(w[:-3]):
        w, trimmed = w[:-3], True
    if trimmed:
        if w.endswith(("at", "bl", "iz")):
            w += "e"
        elif len(w) >= 2 and w[-1] == w[-2] and _consonant(w, len(w) - 1) and w[-1] not in "lsz":
            w = w[:-1]
        elif _measure(w) == 1 and _cvc(w):
            w += "e"
    # 1c
    if w.endswith("y") and _has_vowel(w[:-1]):
        w = w[:-1] + "i"
    return w or word


def terms_of(*texts: str | None) -> list[str]:
    """The index terms of the texts, in first-seen order: folded (case, accents) words, stemmed. The one
    tokenizer: product writes index these terms and queries look them up."""
    seen: dict[str, None] = {}
    for tok in _raw_tokens(*texts):
        seen.setdefault(stem(tok)[:MAX_TERM_CHARS], None)
    return list(seen)


def index_terms(product: Mapping[str, Any]) -> list[str]:
    """The terms a product is found by: its name, brand and category words first, then its description's,
    at most MAX_INDEX_TERMS (the index entries are written in the product's transaction)."""
    category = str(product.get("category") or "").replace("-", " ")
    return terms_of(product.get("name"), product.get("brand"), category,
                    product.get("description"))[:MAX_INDEX_TERMS]


def brand_key(brand: str | None) -> str | None:
    """The brand as filters compare it: folded words joined by single spaces ('Teehaus  KYOTO' == 'teehaus kyoto')."""
    key = " ".join(_raw_tokens(brand)) if brand else ""
    return key or None


@dataclass(frozen=True)
class Word:
    """One query word: as typed (folded) and as the index stores it (stemmed)."""

    raw: str
    term: str

    @property
    def typo_tolerant(self) -> bool:
        return len(self.raw) >= TYPO_MIN_LENGTH


def query_words(q: str | None, max_words: int) -> list[Word]:
    if not q:
        return []
    raw = _raw_tokens(q)
    if len(raw) > max_words:
        raise InvalidInput("q", f"at most {max_words} search words")
    words: dict[str, Word] = {}
    for tok in raw:
        term = stem(tok)[:MAX_TERM_CHARS]
        words.setdefault(term, Word(tok, term))
    return list(words.values())


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1: equal, or one insertion, deletion, substitution or swap of two
    neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]]
                and a[diffs[1]] == b[diffs[0]])
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def typo_candidates(word: Word, vocabulary: Iterable[str]) -> list[str]:
    """Index terms one edit away from the word (as typed or stemmed), for a word of TYPO_MIN_LENGTH+ letters.
    The vocabulary read is the word's first-letter partition: the first letter must be right."""
    if not word.typo_tolerant:
        return []
    found = sorted({t for t in vocabulary if within_one_edit(word.term, t) or within_one_edit(word.raw, t)})
    return found[:MAX_TYPO_TERMS]


# ---------------------------------------------------------------- index entries of a product

def posting_partition(term: str) -> str:
    """Postings are grouped by the term's first character, so one Query reads every term with a prefix."""
    return f"{POSTING_PREFIX}{term[0]}"


def posting_key(term: str, product_id: str) -> dict[str, str]:
    return {"pk": posting_partition(term), "sk": f"{term}#{product_id}"}


def catalogue_key(category: str, product_id: str) -> dict[str, str]:
    return {"pk": CATALOGUE_PK, "sk": f"{category}#{product_id}"}


def vocabulary_key(term: str) -> dict[str, str]:
    return {"pk": f"{VOCABULARY_PREFIX}{term[0]}", "sk": term}


def is_listed(product: Mapping[str, Any]) -> bool:
    """Listed = carries the listing keys (active with an active SKU): exactly what browse shows."""
    return bool(product.get("listing_pk")) and product.get("min_price_amount") is not None


def _entry_attrs(product: Mapping[str, Any]) -> dict[str, Any]:
    pid = str(product["product_id"])
    attrs = {"product_id": pid, "category": product["category"], "brand": product.get("brand"),
             "brand_key": brand_key(product.get("brand")), "min_price_amount": int(product["min_price_amount"]),
             "currency": product["currency"], "order_price": price_sk(int(product["min_price_amount"]), pid),
             "order_newest": created_sk(product["created_at"], pid)}
    return {k: v for k, v in attrs.items() if v is not None}


def index_entries(product: Mapping[str, Any], terms: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """(pk, sk) -> item of every index entry a listed product owns with these terms (none when not listed)."""
    if not is_listed(product):
        return {}
    attrs = _entry_attrs(product)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for term in terms:
        key = posting_key(term, attrs["product_id"])
        out[(key["pk"], key["sk"])] = {**key, "term": term, **attrs}
    key = catalogue_key(attrs["category"], attrs["product_id"])
    out[(key["pk"], key["sk"])] = {**key, **attrs}
    return out


@dataclass(frozen=True)
class IndexChange:
    """What one product write does to the index: the product's new ``search_terms`` (None: not indexed, the
    attribute is removed), entries to put (new or changed) and to delete, and terms new to the product (for the
    vocabulary)."""

    terms: list[str] | None
    put: list[dict[str, Any]] = field(default_factory=list)
    delete: list[dict[str, str]] = field(default_factory=list)
    new_terms: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        return len(self.put) + len(self.delete)


def stored_entries(product: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The entries the stored product owns: written with it, recorded by its ``search_terms`` (a product stored
    before the index existed has none)."""
    if "search_terms" not in product:
        return {}
    return index_entries(product, product.get("search_terms") or [])


def index_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> IndexChange:
    """The index writes taking ``before`` (the stored product, {} when new) to ``after`` (its next state)."""
    old = stored_entries(before) if before else {}
    listed = is_listed(after)
    terms = index_terms(after) if listed else None
    new = index_entries(after, terms or [])
    put = [item for key, item in new.items() if old.get(key) != item]
    delete = [{"pk": pk, "sk": sk} for (pk, sk) in old if (pk, sk) not in new]
    old_terms = set(before.get("search_terms") or []) if before else set()
    return IndexChange(terms=terms, put=put, delete=delete, new_terms=[t for t in terms or [] if t not in old_terms])


# ---------------------------------------------------------------- results: filters, facets, pages

@dataclass(frozen=True)
class Filters:
    """The listing filters a search applies to its matches (category, brand key, price range)."""

    category: str | None = None
    brand: str | None = None  # a brand_key
    min_price: int | None = None
    max_price: int | None = None

    def keep(self, entry: Mapping[str, Any]) -> bool:
        price = int(entry["min_price_amount"])
        return ((self.category is None or entry["category"] == self.category)
                and (self.brand is None or entry.get("brand_key") == self.brand)
                and (self.min_price is None or price >= self.min_price)
                and (self.max_price is None or price <= self.max_price))


def price_band(amount: int) -> int:
    """Index of the band holding the amount."""
    band = 0
    for i, low in enumerate(PRICE_BANDS):
        if amount >= low:
            band = i
    return band


def facets(entries: Sequence[Mapping[str, Any]], *, currency: str, exhaustive: bool) -> dict[str, Any]:
    """Counts over every matching product (not only the page): categories, brands (by folded brand, shown as
    the brand's first spelling in product-id order) and the fixed price bands (each with inclusive bounds to pass
    as min_price/max_price; zero counts included)."""
    categories: dict[str, int] = {}
    brands: dict[str, list[Any]] = {}
    bands = [0] * len(PRICE_BANDS)
    for e in sorted(entries, key=lambda e: str(e["product_id"])):
        categories[e["category"]] = categories.get(e["category"], 0) + 1
        if e.get("brand_key"):
            slot = brands.setdefault(e["brand_key"], [e.get("brand") or e["brand_key"], 0])
            slot[1] += 1
        bands[price_band(int(e["min_price_amount"]))] += 1
    return {
        "total": len(entries), "exhaustive": exhaustive,
        "categories": [{"value": k, "count": n} for k, n in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))],
        "brands": [{"value": name, "count": n} for name, n in sorted(brands.values(), key=lambda s: (-s[1], s[0]))],
        "price_bands": [{"min_price": low,
                         "max_price": PRICE_BANDS[i + 1] - 1 if i + 1 < len(PRICE_BANDS) else None,
                         "currency": currency, "count": bands[i]} for i, low in enumerate(PRICE_BANDS)],
    }


def order_key(sort: Sort) -> str:
    return "order_newest" if sort is Sort.NEWEST else "order_price"


def page(entries: Sequence[Mapping[str, Any]], sort: Sort, after: str | None,
         limit: int) -> tuple[list[Mapping[str, Any]], str | None]:
    """The page after ``after`` (a sort key) in the listing's order, and the sort key to resume after (None when
    nothing follows). Sort keys embed the product id, so they are unique and a page never repeats or skips."""
    attr = order_key(sort)
    descending = sort in (Sort.PRICE_DESC, Sort.NEWEST)
    ordered = sorted(entries, key=lambda e: str(e[attr]), reverse=descending)
    if after is not None:
        ordered = [e for e in ordered if (str(e[attr]) < after if descending else str(e[attr]) > after)]
    chunk = ordered[:limit]
    return chunk, (str(chunk[-1][attr]) if len(ordered) > limit else None)


def encode_index_cursor(after: str | None, sort: Sort) -> str | None:
    return encode_cursor({"after": {"S": after}, "sort": {"S": sort.value}}) if after else None


def decode_index_cursor(cursor: str | None, sort: Sort) -> str | None:
    """The sort key a search cursor resumes after; 422 for a cursor of another listing (a browse cursor, or
    another sort order)."""
    key = decode_cursor(cursor, "cursor", {"after": "S", "sort": "S"})
    if key is None:
        return None
    if key["sort"]["S"] != sort.value:
        raise InvalidInput("cursor", "not a cursor of this listing")
    return str(key["after"]["S"])


__all__ = ["ENTRY_ATTRS", "Filters", "IndexChange", "Word", "brand_key", "facets", "index_change", "index_terms",
           "query_words", "stem", "terms_of", "typo_candidates", "within_one_edit"]
