# syntax=docker/dockerfile:1.7
# Conflicto's runtime image: one static-ish binary on Debian slim, as a non-root user.
#   docker build -t conflicto:$(git rev-parse HEAD) .
# Build stage: the toolchain pinned in rust-toolchain.toml. Cargo's registry and the target
# folder are BuildKit cache mounts, so a rebuild only recompiles what changed.
FROM rust:1.95.0-slim-bookworm AS build
# The image's own toolchain: rust-toolchain.toml also asks for rustfmt and clippy, which a
# release build does not need and rustup would otherwise download.
ENV RUSTUP_TOOLCHAIN=1.95.0
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin conflicto \
 && install -m 0755 target/release/conflicto /usr/local/bin/conflicto

# Runtime stage: no compiler, no package manager caches.
FROM debian:bookworm-slim AS runtime
# ca-certificates: TLS to PostgreSQL and the health and smoke commands against HTTPS URLs.
# postgresql-client: psql and pg_dump for operators, who reach a running task with ECS Exec
# (docs/runbooks/database.md); the database has no other way in.
# Not pinned: Debian's security updates replace a version in the archive, after which a
# pinned install fails and so would every build; the base image's tag fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 conflicto \
 && useradd --system --uid 10001 --gid conflicto --home-dir /var/lib/conflicto --create-home \
      --shell /usr/sbin/nologin conflicto
COPY --from=build /usr/local/bin/conflicto /usr/local/bin/conflicto
# The SQLite default lives in the working folder; production sets DATABASE_URL to PostgreSQL.
WORKDIR /var/lib/conflicto
ENV LISTEN_ADDR=0.0.0.0:8080 \
    LOG_FORMAT=json \
    ENVIRONMENT=prod
USER 10001:10001
EXPOSE 8080
# ECS sends SIGTERM, waits stopTimeout (30 s), then SIGKILL: the server drains within that.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["conflicto", "health-check", "--url", "http://127.0.0.1:8080/api/v1/health/live", "--timeout-seconds", "4"]
ENTRYPOINT ["conflicto"]
CMD ["serve"]
