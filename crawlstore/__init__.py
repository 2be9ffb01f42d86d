"""Storage adapters shared by controller and workers: Redis keys and scripts, MongoDB collections.

Adapters translate between plain values and the stores; decisions live in `crawlcore`.
"""
