#!/bin/sh
# Ensemble's container entry point: apply the container defaults, give an empty personas
# folder the shipped cards, then replace this shell with the command (exec), so the bot is
# the process Docker's stop signal reaches.
set -eu

. "${ENSEMBLE_CONTAINER_ENV:-/app/deploy/container-env.sh}"

say() {
    echo "ensemble-entrypoint: $*" >&2
}

has_cards() {
    [ -n "$(find "$1" -maxdepth 1 -type f ! -name '.*' \
        \( -iname '*.toml' -o -iname '*.json' -o -iname '*.png' \) 2>/dev/null | head -n 1)" ]
}

case "$DATABASE" in
    postgres://* | postgresql://* | /*) ;;
    *) say "warning: DATABASE=$DATABASE is inside the container, not on the /data volume;" \
        "its memory is lost when the container is recreated (leave DATABASE empty, or use /data/...)" ;;
esac

if [ "$PERSONAS_DIR" != "$SHIPPED_PERSONAS_DIR" ] && ! has_cards "$PERSONAS_DIR"; then
    if mkdir -p "$PERSONAS_DIR" 2>/dev/null && cp -R "$SHIPPED_PERSONAS_DIR"/. "$PERSONAS_DIR"/ 2>/dev/null; then
        say "$PERSONAS_DIR had no persona cards: copied the shipped ones there"
    else
        say "$PERSONAS_DIR has no persona cards and is not writable: using the shipped ones"
        PERSONAS_DIR="$SHIPPED_PERSONAS_DIR"
        export PERSONAS_DIR
    fi
fi

exec "$@"
