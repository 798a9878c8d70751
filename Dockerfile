# syntax=docker/dockerfile:1
# Broadcaster as one self-contained executable in a minimal, non-root image.
#   docker build -t broadcaster .
#   docker run -p 8000:8000 -e JWT_SECRET=... -e API_KEYS=... broadcaster
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 .
# The executable is cross-compiled on the build platform (no emulation).

ARG DENO_VERSION=2.9.6

FROM --platform=$BUILDPLATFORM denoland/deno:${DENO_VERSION} AS build
ARG TARGETARCH
WORKDIR /app
# Dependencies first, so source edits do not refetch them.
COPY deno.json deno.lock ./
RUN deno install --frozen-lockfile
COPY main.ts ./
COPY src ./src
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported architecture: $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && deno compile --frozen-lockfile --allow-net --allow-env --allow-read --allow-ffi --v8-flags=--expose-gc \
      --target "$target" --output /app/broadcaster main.ts

# deno compile output links against glibc: distroless "cc" has it and nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /app/broadcaster /usr/local/bin/broadcaster
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
USER nonroot:nonroot
# No shell or curl in the image: the binary checks its own /health.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/broadcaster", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/broadcaster"]
