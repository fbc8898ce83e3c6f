# ringgate: multi-stage build; the runtime image runs as the non-root user 1001 (as APIM's gateway).
#
# io_uring: Docker's default seccomp profile blocks io_uring_setup/enter, so ringgate logs
# "I/O driver: falling back to epoll" and still works. To run on io_uring, use the seccomp profile
# deploy/io_uring-profile.json (Docker's default allow list plus io_uring_setup, io_uring_enter and
# io_uring_register; or, on a trusted host, --security-opt seccomp=unconfined), and allow locked
# memory for the rings (--ulimit memlock=-1):
#   docker run --security-opt seccomp=deploy/io_uring-profile.json --ulimit memlock=-1 -p 8080:8080 ringgate
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY examples ./examples
RUN cargo build --release --bin ringgate

FROM debian:bookworm-slim
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
