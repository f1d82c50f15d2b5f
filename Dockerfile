# syntax=docker/dockerfile:1.7
# Portico's image: both binaries (`portico`, the control plane and console; `portico-proxy`,
# a proxy node) and the console's site, on Debian bookworm-slim as a non-root user.
#
#   docker build -t portico .
#   docker run --rm portico portico --help
#
# docker-compose.yml runs a whole fleet from it; deploy/kubernetes/ the same on Kubernetes.

# The build: scripts/build --release is the one way the binaries and the console's wasm are
# built and laid out (bin/ and site/ side by side, where `portico` finds its console).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Caches survive between builds (BuildKit); the installed tree is copied out of the target
# directory in the same step, so nothing outside the cache is lost when the mount goes.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    ./scripts/build --release /opt/portico

FROM debian:bookworm-slim
# ca-certificates: HTTPS integrations, Lambda at AWS, https:// control planes without --ca.
# curl: the health checks docker-compose.yml runs inside the containers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 portico \
 && useradd --system --uid 10001 --gid portico --home-dir /var/lib/portico --shell /usr/sbin/nologin portico \
 && install -d -o portico -g portico /var/lib/portico /var/cache/portico
COPY --from=build /opt/portico /opt/portico
ENV PATH=/opt/portico/bin:$PATH \
    PORTICO_CACHE_DIR=/var/cache/portico \
    PORTICO_DATA_DIR=/var/lib/portico
USER 10001:10001
WORKDIR /var/lib/portico
# Proxy HTTP and HTTPS, console and admin API, gRPC config service, node health and metrics.
EXPOSE 8000 8443 9000 9001 9100
# A control-plane replica by default; a node is `portico-proxy …` as the command.
CMD ["portico", "serve", "--admin-addr", "0.0.0.0:9000", "--grpc-addr", "0.0.0.0:9001"]
