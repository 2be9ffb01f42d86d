# crawlfleet: one image for the controller, the workers and the CLI.
#
#   docker build -t crawlfleet .
#   docker run --rm -p 8000:8000 -e REDIS_URL=redis://... -e MONGO_URL=mongodb://... crawlfleet
#   docker run --rm -e REDIS_URL=redis://... -e MONGO_URL=mongodb://... crawlfleet worker
#
# docker-compose.yml runs the whole stack; deploy/README.md explains it.
# Every dependency (lxml, cryptography, pymongo, ...) installs from a manylinux wheel,
# so neither stage needs a compiler.

# ---- build: install the package and its dependencies into a virtualenv ----
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_PREFER_BINARY=1

RUN python -m venv /opt/crawlfleet

WORKDIR /src
# .dockerignore keeps the context to what `pip install .` needs.
COPY . .
# The check imports what `crawlfleet controller`, `crawlfleet worker` and the workers' healthcheck
# load, from the installed package (-I: not from /src), so a dependency missing from setup.py
# fails the build instead of the container.
RUN /opt/crawlfleet/bin/pip install --no-cache-dir . \
    && /opt/crawlfleet/bin/crawlfleet --help > /dev/null \
    && /opt/crawlfleet/bin/python -I -c "import controller.server, spiders.runner, spiders.health"

# ---- runtime: the virtualenv on a clean slim image, run as a non-root user ----
FROM python:3.11-slim AS runtime

ENV PATH=/opt/crawlfleet/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SCRAPY_SETTINGS_MODULE=spiders.settings \
    CRAWLFLEET_HOST=0.0.0.0 \
    CRAWLFLEET_PORT=8000 \
    CRAWLFLEET_METRICS_HOST=0.0.0.0 \
    CRAWLFLEET_METRICS_PORT=9410

# A numeric UID so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 crawlfleet \
    && useradd --system --uid 10001 --gid crawlfleet --create-home \
       --home-dir /home/crawlfleet --shell /usr/sbin/nologin crawlfleet

COPY --from=build /opt/crawlfleet /opt/crawlfleet

WORKDIR /home/crawlfleet
USER 10001:10001

# 8000: the controller's API, /metrics, /healthz, /readyz; 9410: a worker's /metrics and /healthz.
EXPOSE 8000 9410

# No HEALTHCHECK here: the same image runs the controller (GET /healthz on 8000) and workers
# (`python -m spiders.health`, GET /healthz on 9410); docker-compose.yml and the Kubernetes
# probes in deploy/k8s give each role its own.

ENTRYPOINT ["crawlfleet"]
CMD ["controller"]
