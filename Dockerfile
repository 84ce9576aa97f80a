# lotto-mlops: one image for the web server and the Q2 worker.
#   docker-compose up -d          (see docker-compose.yml and docs/OPERATIONS.md)
#   docker run IMAGE web|worker   (deploy/entrypoint.sh chooses the role)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=lotto_site.settings \
    DEBUG=0 \
    VAR_DIR=/data/var \
    MODEL_ROOT=/data/models \
    STATIC_ROOT=/app/staticfiles \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
RUN useradd --system --uid 10001 --no-create-home --home-dir /app lotto

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
# psycopg2-binary ships its own libpq, so no compiler or -dev packages are needed.
# --require-hashes: every file must match the sha256 in the lock (see README,
# "Dependencies").
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt

COPY . .
# A throwaway key only lets the production settings load (they refuse to start
# without a real one); nothing is signed at build time.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput -v0 \
    && mkdir -p /data/models /data/var \
    && chown -R lotto:lotto /data

USER lotto
EXPOSE 8000
ENTRYPOINT ["deploy/entrypoint.sh"]
CMD ["web"]
