# syntax=docker/dockerfile:1
# Boxset production image: gunicorn serving the app (`web`, the default) or the job consumer
# (`worker`). Build metadata comes from CI:
#   docker build --build-arg APP_VERSION=0.1.0 --build-arg GIT_SHA=$(git rev-parse HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t boxset .

# --- build: install the runtime dependencies into a virtualenv -------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# --- runtime -------------------------------------------------------------------------------
FROM python:3.11-slim

# Empty by default: the app then reads the version from pyproject.toml and reports
# "unknown" for the commit and build date.
ARG APP_VERSION=""
ARG GIT_SHA=""
ARG BUILD_DATE=""

LABEL org.opencontainers.image.title="Boxset" \
      org.opencontainers.image.description="Self-hosted media collection manager for households and homelabs" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${APP_VERSION}" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_DATE}"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    DATA_DIR=/data \
    PORT=5000 \
    APP_VERSION=${APP_VERSION} \
    GIT_SHA=${GIT_SHA} \
    BUILD_DATE=${BUILD_DATE}

# A fixed uid/gid so that host directories can be chowned to it (bind mounts, backups).
RUN groupadd --system --gid 10001 boxset \
    && useradd --system --uid 10001 --gid boxset --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin boxset \
    && mkdir -p /data \
    && chown boxset:boxset /data \
    && chmod 0750 /data

COPY --from=build /opt/venv /opt/venv

# The code stays owned by root: the app user can read it but not change it.
WORKDIR /app
COPY app/ app/
COPY migrations/ migrations/
COPY config.py run.py wsgi.py pyproject.toml gunicorn.conf.py ./
COPY docker/entrypoint.sh docker/entrypoint.sh
RUN chmod 0755 docker/entrypoint.sh \
    && python -m compileall -q app migrations config.py run.py wsgi.py

# Numeric, so that runtimes checking "runAsNonRoot" can verify it without /etc/passwd.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 5000

# Any answer but 200 (503 means the database or the queue is unreachable) is unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '5000') + '/api/health', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
