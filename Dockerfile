# The same image as `make image` (scripts/image.sh, docs/install.md), for those who build with a container
# engine: the couchestor binary built as by `make` (Release, LTO), and a root assembled by the same
# scripts/image.py from Debian 12 packages: the binary, nvme-cli and smartctl (for `couchestor discover`), the
# shared libraries they link, the CA bundle, user nonroot (65532); no shell, no package manager. Not built in CI
# here (no container engine on these machines); `make image-check` tests the image scripts/image.sh makes.
ARG SOURCE_DATE_EPOCH=1
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

FROM debian:12 AS root
ARG SOURCE_DATE_EPOCH
RUN apt-get update && apt-get install -y --no-install-recommends \
      libisal2 libcurl4 libjansson4 libyajl2 libyaml-0-2 libmicrohttpd12 liburing2 \
      nvme-cli smartmontools ca-certificates binutils python3 \
    && rm -rf /var/lib/apt/lists/*
COPY scripts/image.py /image.py
COPY --from=build /build/couchestor /couchestor
RUN python3 /image.py --binary /couchestor --source-root / --dpkg-admin /var/lib/dpkg \
      --epoch "$SOURCE_DATE_EPOCH" --rootfs-tar /rootfs.tar \
    && mkdir /rootfs && tar -xpf /rootfs.tar -C /rootfs

FROM scratch
COPY --from=root /rootfs/ /
USER 65532:65532
ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/couchestor"]
CMD ["operator"]
