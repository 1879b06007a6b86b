# Build a static slabot binary, then ship it alone on a distroless base as a
# non-root user. Time-zone data is embedded in the binary (time/tzdata).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slabot ./cmd/slabot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/slabot /usr/local/bin/slabot
USER nonroot:nonroot
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/slabot"]
CMD ["run"]
