# syntax=docker/dockerfile:1
#
# kehu's image: one image for every process of a deployment (docs/operators.md, "The image").
#
#   docker build -t kehu:0.1.0 .
#   docker run --rm --env-file /etc/kehu/kehu.env kehu:0.1.0 migrate
#   docker run -d --env-file /etc/kehu/kehu.env -p 8000:8000 kehu:0.1.0            # kehu serve
#   docker run -d --env-file /etc/kehu/kehu.env kehu:0.1.0 worker --threads 4
#   docker run -d --env-file /etc/kehu/kehu.env kehu:0.1.0 scheduler                # exactly one
#
# No setting and no secret is baked in: every KEHU_* comes from the environment at run time.
# The base image is pinned to a Python release; bump both FROM lines together (or pin a digest,
# python:3.11.14-slim-trixie@sha256:…, for reproducible builds).

# --- builder: the wheel of this checkout, installed with its dependencies into /opt/kehu --------
FROM python:3.11.14-slim-trixie AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps the rest of the checkout out).
COPY pyproject.toml README.md ./
COPY core/ core/
COPY gateway/ gateway/
COPY plugins/ plugins/

# The venv gets no pip of its own: the builder's pip installs into it (pip --python), so the
# runtime image carries kehu and its dependencies only. Dependencies come as binary wheels.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv --without-pip /opt/kehu \
    && python -m pip --python /opt/kehu/bin/python install --only-binary=:all: /wheels/kehu-*.whl \
    && /opt/kehu/bin/kehu --version

# --- runtime: slim Python, the venv, a non-root user --------------------------------------------
FROM python:3.11.14-slim-trixie AS runtime

LABEL org.opencontainers.image.title="kehu" \
      org.opencontainers.image.description="kehu (客户): multi-tenant customer records under Chinese customer-management regulations and PIPL" \
      org.opencontainers.image.version="0.1.0"

# UID/GID 10001, as the Helm chart's podSecurityContext runs it.
RUN groupadd --system --gid 10001 kehu \
    && useradd --system --uid 10001 --gid kehu --home-dir /var/lib/kehu --create-home \
       --shell /usr/sbin/nologin kehu

COPY --from=builder /opt/kehu /opt/kehu

ENV PATH="/opt/kehu/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KEHU_HOST=0.0.0.0 \
    KEHU_PORT=8000

# The embedded profile's ./var (a trial run) lands here; production keeps no state in the image.
WORKDIR /var/lib/kehu
USER 10001:10001
EXPOSE 8000

# /healthz of `kehu serve` on KEHU_PORT, with the standard library (no curl in slim images).
# Containers running another command (worker, scheduler, migrate) have no HTTP port: the check
# passes for them; watch those processes with your supervisor instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0) if b'serve' not in open('/proc/1/cmdline', 'rb').read().split(b'\\0') else urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('KEHU_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["kehu"]
CMD ["serve"]
