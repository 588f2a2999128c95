# notice-relay services and CLI. Multi-stage: dependencies are built in a throw-away stage; the
# runtime image holds the virtualenv and the source, and runs as an unprivileged user.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt ./
COPY services ./services
COPY schemas ./schemas
RUN /opt/venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 relay \
 && useradd --system --uid 10001 --gid relay --home-dir /app --shell /usr/sbin/nologin relay
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root services ./services
COPY --chown=root:root schemas ./schemas
COPY --chown=root:root deploy ./deploy
# The source tree wins over the installed copy, so REPO_ROOT (deploy/, .relay/) is /app.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 RELAY_LOG_FORMAT=json
RUN mkdir -p /app/.relay && chown relay:relay /app/.relay
USER 10001:10001
EXPOSE 8080 8081 9101
CMD ["relay", "--help"]
