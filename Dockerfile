# Build a static slabot binary, then ship it alone on a distroless base as a
# non-root user. Time-zone data is embedded in the binary (time/tzdata).
#
# The builder is the Go release go.mod's toolchain line names (security fixes
# in net/http and crypto after 1.26.8), and the runtime image a fixed
# distroless release. For a reproducible build also pin each by digest:
#   docker buildx imagetools inspect golang:1.26.11-bookworm
#   docker build --build-arg GO_IMAGE=golang:1.26.11-bookworm@sha256:<digest> \
#                --build-arg RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:<digest> .
ARG GO_IMAGE=golang:1.26.11-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
# The builder's own Go, never another one fetched because go.mod names it.
ENV GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slabot ./cmd/slabot

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/slabot /usr/local/bin/slabot
USER nonroot:nonroot
# 9090 is /metrics, which slabot serves on 127.0.0.1 unless
# SLABOT_METRICS_ADDR says otherwise (the Kubernetes example sets :9090).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/slabot"]
CMD ["run"]
