# Ensemble. With Compose: `docker compose up -d` (see README, "Docker and Compose").
# Alone: docker build -t ensemble . && docker run --init --env-file .env \
#          -v ensemble-data:/data -v ensemble-personas:/personas ensemble
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 ensemble \
    && mkdir -p /data /personas \
    && chown ensemble /data /personas

# Dependencies first, in a layer of their own: only a change to pyproject.toml rebuilds it.
COPY pyproject.toml deploy/requirements.py /tmp/deps/
RUN python /tmp/deps/requirements.py /tmp/deps/pyproject.toml postgres > /tmp/deps/requirements.txt \
    && pip install -r /tmp/deps/requirements.txt \
    && rm -rf /tmp/deps

# Then the code: editing it rebuilds only the layers from here on.
COPY deploy/container-env.sh deploy/docker-entrypoint.sh ./deploy/
COPY personas ./personas
COPY bot ./bot
COPY cogs ./cogs

USER ensemble
# /data holds the SQLite memory; /personas the cards (filled from the shipped ones if empty).
VOLUME ["/data", "/personas"]
# /metrics and /healthz (METRICS_PORT); bound on all of the container's addresses.
EXPOSE 9108
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sh", "-c", ". /app/deploy/container-env.sh && exec python -m bot.healthcheck"]
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["python", "-m", "bot"]
