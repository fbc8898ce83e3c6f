# ringgate: multi-stage build; the runtime image runs as the non-root user 1001 (as APIM's gateway).
#
# io_uring: Docker's default seccomp profile blocks io_uring_setup/enter, so ringgate logs
# "I/O driver: falling back to epoll" and still works. To run on io_uring, use the seccomp profile
# deploy/io_uring-profile.json (Docker's default allow list plus io_uring_setup, io_uring_enter and
# io_uring_register; or, on a trusted host, --security-opt seccomp=unconfined), and allow locked
# memory for the rings (--ulimit memlock=-1):
#   docker run --security-opt seccomp=deploy/io_uring-profile.json --ulimit memlock=-1 -p 8080:8080 ringgate
#
# Versions: build with the commit and the version so the binary, /status, the heartbeat, the
# ringgate_build_info metric and the image labels agree (the build context has no .git):
#   docker build --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) \
#     --build-arg VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1) \
#     --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t ringgate:0.1.0 .
FROM rust:1-bookworm AS build
ARG GIT_COMMIT=unknown
ENV RINGGATE_GIT_COMMIT=${GIT_COMMIT}
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY examples ./examples
RUN cargo build --release --bin ringgate

FROM debian:bookworm-slim
ARG VERSION=0.1.0
ARG GIT_COMMIT=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="ringgate" \
      org.opencontainers.image.description="A thread-per-core, io_uring API gateway (a self-hosted data plane in the role of Azure API Management's self-hosted gateway)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd -g 1001 ringgate && useradd -u 1001 -g 1001 -M -s /usr/sbin/nologin ringgate \
    && mkdir -p /apim/config && chown 1001:1001 /apim/config
COPY --from=build /src/target/release/ringgate /usr/local/bin/ringgate
USER 1001
# API (HTTP, HTTPS); the admin port (8082) stays on loopback unless net.server.admin.bind is set.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/ringgate"]
CMD ["run"]
