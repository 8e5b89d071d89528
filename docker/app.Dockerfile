# The application: the masterfile package (`pyloader`) installed from a wheel
# into a virtual environment, with nothing else of the repository. One image
# serves every application service of compose.yaml: migrate, the worker, the
# API, the fake ERP and the demo loader differ only in their command.
# Build context: the repository root (see compose.yaml).
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /src/
COPY pyloader/ /src/pyloader/
COPY migrations/ /src/migrations/
COPY sql/ /src/sql/
# the wheel and every dependency's, so the final image needs no index
RUN python3 -m venv /opt/build && /opt/build/bin/pip install -q --upgrade pip \
 && /opt/build/bin/pip wheel -q -w /wheels /src

FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /tmp/wheels
RUN python3 -m venv /opt/masterfile \
 && /opt/masterfile/bin/pip install -q --no-index --find-links /tmp/wheels masterfile \
 && rm -rf /tmp/wheels \
 && useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin masterfile
ENV PATH=/opt/masterfile/bin:$PATH PYTHONUNBUFFERED=1 MASTERFILE_LOG_FORMAT=json
USER masterfile
ENTRYPOINT ["pyloader"]
CMD ["--help"]
