# escalation-routerd container image: build on Debian bookworm, run on a slim bookworm as non-root.
#   docker build -t escalation-router .
#   docker run -p 8080:8080 -v router-data:/var/lib/escalation-router \
#     -e ROUTER_OPS_TOKEN=... -e WIDGET_API_KEY=... escalation-router
# The package lists come from scripts/packages.txt, the same file the installer reads.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/ scripts/
RUN ./scripts/install-deps build
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DROUTER_BUILD_TESTS=OFF -DROUTER_BUILD_BENCH=OFF \
 && cmake --build build -j"$(nproc)" --target escalation-routerd \
 && strip build/daemon/escalation-routerd

FROM debian:bookworm-slim
COPY scripts/ /tmp/scripts/
RUN /tmp/scripts/install-deps runtime && rm -rf /var/lib/apt/lists/* /tmp/scripts \
 && useradd --system --home-dir /var/lib/escalation-router --shell /usr/sbin/nologin router \
 && install -d -o router -g router -m 0700 /var/lib/escalation-router /etc/escalation-router
COPY --from=build /src/build/daemon/escalation-routerd /usr/local/bin/escalation-routerd
COPY config/docker.toml /etc/escalation-router/router.toml
USER router
WORKDIR /var/lib/escalation-router
VOLUME ["/var/lib/escalation-router"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/escalation-routerd"]
CMD ["--config", "/etc/escalation-router/router.toml"]
