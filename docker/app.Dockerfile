# The application: the masterfile package (`pyloader`) installed into a
# virtual environment, with nothing else of the repository. One image serves
# every application service of compose.yaml: migrate, the worker, the API,
# the fake ERP and the demo loader differ only in their command.
#
# Wheels made beforehand in docker/wheels/ (`make docker-wheels`: the
# package's and every dependency's, made on the host with its own package
# index and certificates) are installed without any index; without them the
# package is built here from the source and its dependencies come from PyPI.
# Build context: the repository root (see compose.yaml).
FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /src/
COPY pyloader/ /src/pyloader/
COPY migrations/ /src/migrations/
COPY sql/ /src/sql/
COPY docker/wheels/ /tmp/wheels/
RUN python3 -m venv /opt/masterfile \
 && if ls /tmp/wheels/masterfile-*.whl >/dev/null 2>&1; then \
      /opt/masterfile/bin/pip install -q --no-index --find-links /tmp/wheels masterfile; \
    else \
      /opt/masterfile/bin/pip install -q /src; \
    fi \
 && rm -rf /tmp/wheels /src \
 && /opt/masterfile/bin/pyloader --version \
 && useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin masterfile
ENV PATH=/opt/masterfile/bin:$PATH PYTHONUNBUFFERED=1 MASTERFILE_LOG_FORMAT=json
USER masterfile
ENTRYPOINT ["pyloader"]
CMD ["--help"]
