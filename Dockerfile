# The jitu portal for production: docker-compose.yml runs it beside PostgreSQL and MinIO.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 JITU_VAR_DIR=/var/lib/jitu
WORKDIR /app
COPY pyproject.toml README.md ./
COPY marketplace ./marketplace
COPY matching ./matching
COPY storage ./storage
COPY portal ./portal
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/jitu jitu && mkdir -p /var/lib/jitu \
    && chown jitu /var/lib/jitu
USER jitu
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["sh", "-c", "jitu migrate && jitu serve --host 0.0.0.0 --port 8000 --workers 2"]
