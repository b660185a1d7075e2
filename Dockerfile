# Sent's web and worker image (docs/operations.md#deploy). Untested here: these machines have
# no Docker; tests/operations/test_deploy_files.py checks it statically.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SENT_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    PORT=8000

WORKDIR /app
RUN useradd --create-home --uid 10001 sent

# Exactly the pins `make run` installs (requirements-run.lock: the runtime part of the lock).
COPY requirements-run.lock ./
RUN pip install -r requirements-run.lock
COPY . .

# Static files collected at build; DEBUG=false picks the hashed-name storage. The throwaway
# key only serves this step (SECRET_KEY is required at run time).
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var /tmp/prometheus && chown -R sent:sent /app/var /tmp/prometheus

USER sent
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT','8000'))"
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "sent_project.wsgi"]
