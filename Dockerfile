# syntax=docker/dockerfile:1
#
# Portcullis container image: built on Debian 12, run on debian:12-slim.
#
#   docker build -t portcullis:0.1.0 .
#   docker run --rm --read-only --cap-drop ALL -p 8080:8080 -p 9901:9901 \
#     -v "$PWD/my-config:/etc/portcullis:ro" portcullis:0.1.0
#
# - The runtime stage holds the binary, its shared libraries and CA certificates; no compiler,
#   no shell tools beyond what debian:12-slim ships.
# - It runs as the unprivileged user portcullis (uid/gid 10001, no home, no login shell).
# - It writes nothing to its filesystem (access log on stdout, operational log on stderr), so it
#   runs with a read-only root filesystem and no writable volume.
# - Configuration is mounted at /etc/portcullis (gateway.yaml and policies/); secrets the
#   config refers to (introspection client secrets, HS256 keys) at /var/run/secrets/portcullis.
#   Inside a container, set listen and admin_listen to 0.0.0.0:<port>: the binary's defaults
#   bind 127.0.0.1, which nothing outside the container can reach (kubelet probes included).
# - The example configuration and policies are in /usr/share/portcullis for a quick check:
#     docker run --rm portcullis:0.1.0 validate --config /usr/share/portcullis/policies/gateway.yaml
#
# scripts/check-deploy checks this file in CI (stages, base images, that every path it copies
# exists and survives .dockerignore, that the runtime packages cover the binary's libraries).

# ---- build: compile the gateway with the same Debian 12 packages CI uses ----
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libevent-dev libssl-dev rapidjson-dev libcurl4-openssl-dev \
      libyaml-cpp-dev prometheus-cpp-dev doctest-dev python3-minimal \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# CMakeLists.txt also declares the tests (tests/unit, tests/fuzz): configuring needs them.
COPY CMakeLists.txt ./
COPY gateway/ gateway/
COPY tests/ tests/
COPY bench/verify_cost.cc bench/
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DPORTCULLIS_WERROR=ON \
 && cmake --build /build -j "$(nproc)" --target portcullis \
 && strip /build/portcullis

# ---- runtime: the binary and its shared libraries only ----
FROM debian:12-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libevent-core-2.1-7 libevent-openssl-2.1-7 \
      libevent-pthreads-2.1-7 libprometheus-cpp-core1.0 libssl3 libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 portcullis \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin portcullis
COPY --from=build /build/portcullis /usr/local/bin/portcullis
COPY examples/gateway.yaml /usr/share/portcullis/examples/gateway.yaml
COPY policies/ /usr/share/portcullis/policies/
# Fails the build if a shared library is missing or the shipped examples no longer load.
RUN /usr/local/bin/portcullis --version \
 && /usr/local/bin/portcullis validate --config /usr/share/portcullis/examples/gateway.yaml \
 && /usr/local/bin/portcullis validate --config /usr/share/portcullis/policies/gateway.yaml
LABEL org.opencontainers.image.title="portcullis" \
      org.opencontainers.image.description="Reverse-proxy authentication gateway: OAuth2 bearer tokens checked offline, per-route policies" \
      org.opencontainers.image.version="0.1.0"
USER 10001:10001
# 8080: the gateway (listen), 9901: /healthz, /readyz, /metrics (admin_listen).
EXPOSE 8080 9901
# SIGTERM (the default stop signal) drains in-flight requests for at most drain_timeout (20s
# by default): give the container longer than that to stop (docker stop -t 30, Kubernetes
# terminationGracePeriodSeconds).
ENTRYPOINT ["/usr/local/bin/portcullis"]
CMD ["run", "--config", "/etc/portcullis/gateway.yaml"]
