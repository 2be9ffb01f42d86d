"""Crawl output in MongoDB: processed objects and URL-report rows.

Documents carry the crawl id in `_c`, the round in `_r` and, for objects, the crawl time
in `_t`; these and `_id` are internal and never exported. `_id`s are deterministic
(crawl, round, URL fingerprint[, index]), so writing a page twice (a retried lease)
replaces its documents instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pymongo import DESCENDING, ReplaceOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

__all__ = ["INTERNAL_FIELDS", "OutputStore", "insert_or_replace", "object_id", "url_id"]

INTERNAL_FIELDS = ("_id", "_c", "_r", "_t")
_DUPLICATE_KEY = 11000


def url_id(crawl_id: str, round_: int, fp_hex: str) -> str:
    return f"{crawl_id}:{round_}:{fp_hex}"


def object_id(crawl_id: str, round_: int, fp_hex: str, index: int) -> str:
    return f"{crawl_id}:{round_}:{fp_hex}:{index}"


def insert_or_replace(collection: Collection, docs: Sequence[dict[str, Any]]) -> None:
    """Write documents keyed by `_id`, replacing any that exist.

    Inserting is about twice as fast as upserting, and a page is almost always new, so
    insert first and replace only the documents whose `_id` was taken.
    """
    if not docs:
        return
    try:
        collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(err.get("code") != _DUPLICATE_KEY for err in errors):
            raise
        retry = [ReplaceOne({"_id": docs[err["index"]]["_id"]}, docs[err["index"]], upsert=True) for err in errors]
        collection.bulk_write(retry, ordered=False)


class OutputStore:
    """Reads and writes of `objects` and `urls`."""

    def __init__(self, db: Database) -> None:
        self.objects = db.objects
        self.urls = db.urls

    def write(self, url_docs: Sequence[dict[str, Any]], object_docs: Sequence[dict[str, Any]]) -> None:
        # Objects first: a URL row says the page is done, so it goes last.
        insert_or_replace(self.objects, object_docs)
        insert_or_replace(self.urls, url_docs)

    def set_hops(self, hops: dict[str, int]) -> None:
        """Correct the hop count of URL rows (their URL turned out to be closer to a seed)."""
        self._update_urls({doc_id: {"hop": hop} for doc_id, hop in hops.items()})

    def mark_duplicates(self, originals: dict[str, str], object_ids: Sequence[str]) -> None:
        """URL rows (id -> the original's Doc ID) whose content an earlier page of the round had:
        reported as duplicates, not processed; their objects (`object_ids`) are removed."""
        self._update_urls({doc_id: {"duplicate_of": original, "process_attempted": False, "diffbot_uri": ""}
                           for doc_id, original in originals.items()})
        self.delete_ids([], object_ids)

    def _update_urls(self, changes: dict[str, dict[str, Any]]) -> None:
        """One bulk write of `$set` changes to URL rows by id."""
        if changes:
            self.urls.bulk_write([UpdateOne({"_id": doc_id}, {"$set": fields}) for doc_id, fields in changes.items()],
                                 ordered=False)

    def outlinks(self, crawl_id: str, round_: int, fp_hex: str) -> tuple[str, list[str]]:
        """The URL and stored links of a crawled page (for re-expansion)."""
        doc = self.urls.find_one({"_id": url_id(crawl_id, round_, fp_hex)}, {"url": 1, "links": 1})
        if doc is None:
            return "", []
        return doc.get("url", ""), list(doc.get("links", []))

    def delete_ids(self, url_ids: Sequence[str], object_ids: Sequence[str]) -> None:
        if object_ids:
            self.objects.delete_many({"_id": {"$in": list(object_ids)}})
        if url_ids:
            self.urls.delete_many({"_id": {"$in": list(url_ids)}})

    def delete_older(self, crawl_id: str, before: float) -> None:
        """Remove a crawl's documents crawled before `before` (leftovers of a restart)."""
        self.objects.delete_many({"_c": crawl_id, "_t": {"$lt": before}})
        self.urls.delete_many({"_c": crawl_id, "crawled": {"$lt": before}})

    def delete_crawl(self, crawl_id: str) -> None:
        self.objects.delete_many({"_c": crawl_id})
        self.urls.delete_many({"_c": crawl_id})

    def iter_objects(self, crawl_id: str, num: int | None = None) -> Iterator[dict[str, Any]]:
        """A crawl's objects, most recently crawled first, without internal fields."""
        projection = {name: 0 for name in INTERNAL_FIELDS}
        cursor = self.objects.find({"_c": crawl_id}, projection).sort("_t", DESCENDING)
        if num is not None:
            cursor = cursor.limit(num)
        return iter(cursor.batch_size(500))

    def iter_urls(self, crawl_id: str, num: int | None = None) -> Iterator[dict[str, Any]]:
        """A crawl's URL-report rows, most recently crawled first."""
        cursor = self.urls.find({"_c": crawl_id}, {"_c": 0, "_r": 0}).sort("crawled", DESCENDING)
        if num is not None:
            cursor = cursor.limit(num)
        return iter(cursor.batch_size(500))
