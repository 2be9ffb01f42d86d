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
    packages=find_packages(include=["crawlcore*", "crawlstore*", "controller*", "spiders*", "crawlfleet*"]),
    package_data={"crawlstore": ["lua/*.lua"]},
    install_requires=[
        "scrapy>=2.13,<3",
        "scrapy-redis>=0.9,<1",
        "redis>=5,<9",
        "starlette>=0.40",
        "uvicorn>=0.30",
        "pymongo>=4.6,<5",
        "prometheus-client>=0.20",
        # Twisted ships with scrapy; lxml with scrapy (parsel) as well.
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
            "ruff>=0.6",
            "mypy>=1.10",
        ],
    },
    entry_points={"console_scripts": ["crawlfleet=crawlfleet.cli:main"]},
)
