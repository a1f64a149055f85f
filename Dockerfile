# The image that docker-compose.yml runs for web, worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# WeasyPrint renders with Pango and HarfBuzz (libharfbuzz-subset0 for font subsetting);
# `manage.py backup` and `restore` run pg_dump and pg_restore (Debian 12's 15, as the server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/base.lock
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 alliance \
    && mkdir -p /var/lib/alliance/media && chown alliance /var/lib/alliance/media
USER alliance
EXPOSE 8000
