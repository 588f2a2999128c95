# notice-relay services and CLI. Multi-stage: the matcher's native vocabulary is built into a
# wheel with Rust, dependencies are installed in a throw-away stage; the runtime image holds the
# virtualenv and the source, and runs as an unprivileged user.
FROM rust:1-slim-bookworm AS native
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/maturin && /opt/maturin/bin/pip install --no-cache-dir "maturin>=1.8,<2"
WORKDIR /native
COPY services/matcher/native ./
# abi3 for CPython 3.11+: the wheel fits the runtime image's Python
RUN /opt/maturin/bin/maturin build --release --out /wheels

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt ./
COPY services ./services
COPY schemas ./schemas
RUN /opt/venv/bin/pip install -c constraints.txt .
# The gettext catalogues: .po in the repository, .mo compiled here (as `make locale` does)
COPY locale ./locale
RUN /opt/venv/bin/pybabel -q compile -d locale -D messages
COPY --from=native /wheels /wheels
RUN /opt/venv/bin/pip install --no-deps /wheels/*.whl

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 relay \
 && useradd --system --uid 10001 --gid relay --home-dir /app --shell /usr/sbin/nologin relay
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root services ./services
COPY --chown=root:root schemas ./schemas
COPY --chown=root:root deploy ./deploy
COPY --from=build --chown=root:root /src/locale ./locale
# The source tree wins over the installed copy, so REPO_ROOT (deploy/, .relay/) is /app.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 RELAY_LOG_FORMAT=json
RUN mkdir -p /app/.relay && chown relay:relay /app/.relay
USER 10001:10001
EXPOSE 8080 8081 9101
CMD ["relay", "--help"]
