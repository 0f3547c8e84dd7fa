# Builds the same couchestor binary as `make` (Release, LTO) and ships it on
# Debian slim with only the runtime libraries. Not built in CI here (no
# container engine on these machines).
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libisal-dev liblz4-dev libcurl4-openssl-dev libjansson-dev libyajl-dev \
      libyaml-dev libmicrohttpd-dev liburing-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCS_TESTS=OFF -DCS_BENCH=OFF \
    && cmake --build /build --target couchestor

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libisal2 liblz4-1 libcurl4 libjansson4 libyajl2 libyaml-0-2 libmicrohttpd12 liburing2 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/couchestor /usr/local/bin/couchestor
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/couchestor"]
CMD ["operator"]
