# kesm in a container: docker build -t kesm .
#   docker run -v $PWD/kesm.json:/etc/kesm/kesm.json:ro -p 9000:9000 kesm
# Stage 1 builds the Debian packages from source (scripts/package.sh);
# stage 2 installs only the runtime package on a slim bookworm, non-root.
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN bash scripts/install-deps.sh --build-only \
 && bash scripts/package.sh

FROM debian:bookworm-slim
COPY --from=build /src/dist/kesm_*_amd64.deb /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/kesm_*_amd64.deb curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/*.deb \
 && useradd --system --uid 10001 --home-dir /var/lib/kesm --create-home kesm \
 && mkdir -p /etc/kesm \
 && cp /usr/share/doc/kesm/kesm.json /etc/kesm/kesm.json
USER 10001:10001
WORKDIR /var/lib/kesm
VOLUME /var/lib/kesm
EXPOSE 9000
# /healthz answers without a token; give the first start time to load.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:9000/healthz || exit 1
# SIGTERM stops cleanly (in-flight batches, offsets committed) within
# --shutdown-grace; give `docker stop -t` more than grace + 15 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/kesm", "serve"]
CMD ["--config", "/etc/kesm/kesm.json", "--api", "0.0.0.0:9000", \
     "--store", "sqlite:/var/lib/kesm/mappings.db", "--shutdown-grace", "10", \
     "--log-format", "json"]
