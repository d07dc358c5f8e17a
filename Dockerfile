# syntax=docker/dockerfile:1
# cairn in a container: built in a Rust image, run as a non-root user in a
# slim Debian with nothing but the binary and CA certificates (for HTTPS to
# PostgreSQL, S3, a search cluster or a CDN's API).
#
#   docker build -t cairn .
#   docker run -p 8080:8080 -e CAIRN_ADMIN_PASSWORD=... cairn
#
# Embedded mode keeps its database and blobs in /var/lib/cairn (mount a
# volume there); scale-out mode takes CAIRN_DATABASE_URL and friends and
# keeps nothing of value there (see deploy/kubernetes).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p cairn --bin cairn \
 && cp target/release/cairn /usr/local/bin/cairn

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/cairn --create-home cairn
COPY --from=build /usr/local/bin/cairn /usr/local/bin/cairn
USER 10001:10001
WORKDIR /var/lib/cairn
ENV CAIRN_LISTEN=0.0.0.0:8080 \
    CAIRN_DATA=/var/lib/cairn
EXPOSE 8080
VOLUME ["/var/lib/cairn"]
# Ready once migrations ran and the sites are open (`cairn serve` binds
# its port only then); `cairn probe` needs no curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["cairn", "probe", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["cairn"]
CMD ["serve"]
