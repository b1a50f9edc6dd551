# morelike in a container: `docker compose up` (see docker-compose.yml).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p morelike

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/morelike /usr/local/bin/morelike
EXPOSE 7700
ENTRYPOINT ["morelike"]
CMD ["serve", "--listen", "0.0.0.0:7700"]
