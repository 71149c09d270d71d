# Container defaults, sourced by the entry point and the health check (POSIX sh).
# A setting left empty (as in .env.example) gets the container's value; one that is set wins.
: "${DATABASE:=/data/ensemble.sqlite3}"
: "${PERSONAS_DIR:=/personas}"
: "${SHIPPED_PERSONAS_DIR:=/app/personas}"
: "${METRICS_HOST:=0.0.0.0}"
: "${METRICS_PORT:=9108}"
export DATABASE PERSONAS_DIR SHIPPED_PERSONAS_DIR METRICS_HOST METRICS_PORT
