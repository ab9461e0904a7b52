# The multimedia service: one static binary (migrations, OpenAPI document and
# dashboard are embedded). Used by docker-compose.yml.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/multimedia ./cmd/multimedia

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/multimedia /multimedia
EXPOSE 8080
ENTRYPOINT ["/multimedia"]
CMD ["serve"]
