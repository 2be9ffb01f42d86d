"""`python -m crawlfleet ...` runs the `crawlfleet` console script (see `crawlfleet.cli`).

$ python -m crawlfleet token create --name ci
"""

from crawlfleet.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
