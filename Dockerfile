# Ensemble: docker build -t ensemble . && docker run --env-file .env -v ensemble-data:/data ensemble
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE=/data/ensemble.sqlite3 \
    PERSONAS_DIR=/app/personas

WORKDIR /app
RUN useradd --create-home --uid 10001 ensemble && mkdir -p /data && chown ensemble /data

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install ".[postgres]"
COPY personas ./personas

USER ensemble
VOLUME ["/data"]
CMD ["python", "-m", "bot"]
