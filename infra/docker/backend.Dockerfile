# syntax=docker/dockerfile:1.7
# The backend image: the ASGI server, the backend Celery worker and beat, migrations, and the web
# build of the Expo app served at /. Build from the repository root:
#   docker build -f infra/docker/backend.Dockerfile -t whale/backend:0.1.0 .
# Reproducible: base images pinned by tag (pin by digest in your registry), npm ci from the lock
# file, pip with the repository's requirements.lock as constraints.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- the web build (mobile/dist)
FROM ${NODE_IMAGE} AS web
WORKDIR /src/mobile
COPY mobile/package.json mobile/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY mobile/ ./
RUN npm run build:web

# ---- Python dependencies in a virtualenv
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY backend/requirements.txt requirements.lock /tmp/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install "pip==25.3" \
 && /opt/venv/bin/pip install -c /tmp/requirements.lock -r /tmp/requirements.txt

# ---- runtime
FROM ${PYTHON_IMAGE} AS runtime
# Files: libmagic sniffs uploads' types, Tesseract (English and simplified Chinese) reads images.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmagic1 tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 whale \
 && useradd --system --uid 10001 --gid whale --home-dir /app --no-create-home --shell /usr/sbin/nologin whale
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app/backend:/app \
    DJANGO_SETTINGS_MODULE=config.settings \
    WHALE_VAR_DIR=/app/var \
    WEB_BUILD_DIR=/app/mobile/dist
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY backend/ /app/backend/
# The wire protocol and log helpers the backend shares with the GPU worker (and the simulated engine,
# which runs from this image for load tests without a GPU).
COPY inference/ /app/inference/
COPY --from=web /src/mobile/dist /app/mobile/dist
# Static files are collected at build time into $WHALE_VAR_DIR/static (read-only at run time; the
# writable places are /tmp and /app/var/prometheus, which the deployments mount as volumes). The web
# build is compressed (.br and .gz beside each file) here too, so no process does it at startup.
RUN mkdir -p /app/var/static /app/var/prometheus \
 && cd /app/backend && SECRET_KEY=build-only-not-a-secret-0123456789abcdef python manage.py collectstatic --no-input >/dev/null \
 && SECRET_KEY=build-only-not-a-secret-0123456789abcdef python manage.py compress_web_build >/dev/null \
 && chown -R whale:whale /app/var
USER 10001:10001
WORKDIR /app/backend
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': os.environ.get('WHALE_HEALTH_HOST', 'localhost')}), timeout=2)"]
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--forwarded-allow-ips", "*", "--no-access-log"]
