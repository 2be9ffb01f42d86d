"""A crawl's link graph for visualization, capped for large crawls.

The caller passes URL-report rows closest to the seeds first (sorted by hop), so a capped
graph is the neighbourhood of the seeds rather than a random scatter:

    >>> rows = [{"url": "a", "hop": 0, "http_status": 200, "links": ["b", "c"]},
    ...         {"url": "b", "hop": 1, "http_status": 404, "links": []}]
    >>> g = link_graph(rows, max_nodes=10, max_edges=10)
    >>> [n["url"] for n in g["nodes"]], g["edges"]
    (['a', 'b'], [{'source': 0, 'target': 1, 'kind': 'link'}])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DEFAULT_MAX_EDGES", "DEFAULT_MAX_NODES", "link_graph", "node_group"]

DEFAULT_MAX_NODES = 500
DEFAULT_MAX_EDGES = 2000


def node_group(row: Mapping[str, Any]) -> str:
    """What colour a page gets: ok, redirect, client_error, server_error, blocked or failed."""
    outcome = row.get("outcome", "fetched")
    if outcome == "blocked":
        return "blocked"
    if outcome == "failed":
        return "failed"
    status = int(row.get("http_status") or 0)
    if 300 <= status < 400:
        return "redirect"
    if 400 <= status < 500:
        return "client_error"
    if status >= 500:
        return "server_error"
    return "ok"


def link_graph(rows: Iterable[Mapping[str, Any]], *, max_nodes: int = DEFAULT_MAX_NODES,
               max_edges: int = DEFAULT_MAX_EDGES) -> dict[str, Any]:
    """Nodes (the first `max_nodes` distinct URLs) and the edges between them."""
    index: dict[str, int] = {}
    nodes: list[dict[str, Any]] = []
    outlinks: list[tuple[int, list[str], str]] = []
    for row in rows:
        url = row.get("url", "")
        if not url or url in index:
            continue
        if len(nodes) >= max_nodes:
            break
        index[url] = len(nodes)
        nodes.append({
            "id": len(nodes),
            "url": url,
            "title": row.get("title", ""),
            "hop": int(row.get("hop") or 0),
            "http_status": int(row.get("http_status") or 0),
            "content_type": row.get("content_type", ""),
            "group": node_group(row),
        })
        outlinks.append((index[url], list(row.get("links") or ()), row.get("redirected_to") or ""))
    edges: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    edges_total = 0
    for source, links, redirect in outlinks:
        targets = [(t, "link") for t in links] + ([(redirect, "redirect")] if redirect else [])
        for target_url, kind in targets:
            target = index.get(target_url)
            if target is None or target == source or (source, target) in seen:
                continue
            seen.add((source, target))
            edges_total += 1
            if len(edges) < max_edges:
                edges.append({"source": source, "target": target, "kind": kind})
    return {"nodes": nodes, "edges": edges, "edges_total": edges_total}
