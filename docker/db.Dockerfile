# The database: PostgreSQL 15 from Debian's packages with the three
# extensions masterfile needs (plpython3u with numpy for the forecast kernel,
# pg_cron, pgTAP), the master file's C kernel (ext/), and the settings of
# scripts/masterfile.conf, the file the project-local cluster includes too.
# Build context: the repository root (see compose.yaml).
FROM debian:bookworm

# Debian's package would make a cluster of its own at install time
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/masterfile.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      postgresql-15 postgresql-plpython3-15 postgresql-15-cron postgresql-15-pgtap python3-numpy \
 && rm -rf /var/lib/apt/lists/*

COPY ext/ /usr/src/masterfile-kernel/
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-server-dev-15 gcc make libc6-dev \
 && make -C /usr/src/masterfile-kernel clean \
 && make -C /usr/src/masterfile-kernel PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config install \
 && apt-get purge -y --auto-remove postgresql-server-dev-15 gcc make libc6-dev \
 && rm -rf /var/lib/apt/lists/* /usr/src/masterfile-kernel

COPY scripts/masterfile.conf /etc/masterfile/masterfile.conf
COPY docker/db-entrypoint.sh /usr/local/bin/masterfile-db
RUN mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
HEALTHCHECK --interval=2s --timeout=3s --retries=60 \
  CMD pg_isready -q -h 127.0.0.1 -p "${PGPORT:-5432}" -U postgres -d masterfile
ENTRYPOINT ["/usr/local/bin/masterfile-db"]
