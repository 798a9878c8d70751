# syntax=docker/dockerfile:1
# Broadcaster as one self-contained executable in a minimal, non-root image.
#   docker build -t broadcaster .
#   docker run -p 8000:8000 -e JWT_SECRET=... -e API_KEYS=... broadcaster

ARG DENO_VERSION=2.9.6

FROM denoland/deno:${DENO_VERSION} AS build
WORKDIR /app
# Dependencies first, so source edits do not refetch them.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY main.ts ./
COPY src ./src
RUN deno compile --frozen --allow-net --allow-env \
      --output /app/broadcaster main.ts \
 && /app/broadcaster --version

# deno compile output links against glibc: distroless "cc" has it and nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /app/broadcaster /usr/local/bin/broadcaster
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/broadcaster"]
