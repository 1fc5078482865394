# Bond Registry image: a static Go binary on distroless, run as non-root.
#   docker build --build-arg VERSION=$(cat VERSION) -t bond-registry:local .
# The final image holds only the binary (plus distroless' CA certificates,
# tzdata and passwd entries); it is about the size of the binary.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/bond-registry ./cmd/bond-registry \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bond-registry /bond-registry
# /data holds the embedded store (STORE=bolt); owned by nonroot (65532).
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
USER nonroot:nonroot
# HOST=0.0.0.0: the container's loopback is out of reach of a published
# port. Without API keys the service then refuses to start unless
# ALLOW_UNAUTHENTICATED=true (or HOST=127.0.0.1 with the host's network).
ENV HOST=0.0.0.0 \
    PORT=5000 \
    BOLT_PATH=/data/bonds.db \
    LOG_FORMAT=json
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/bond-registry", "healthcheck"]
ENTRYPOINT ["/bond-registry"]
CMD ["serve"]
