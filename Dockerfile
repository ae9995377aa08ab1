# Multi-stage build of the three programs on Debian; the runtime image holds
# only the programs, the listener page, and the shared libraries they link.
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libavformat-dev libavcodec-dev libswresample-dev libswscale-dev libavutil-dev \
      libcurl4-openssl-dev libjansson-dev libsodium-dev libebur128-dev \
      libcmocka-dev libmicrohttpd-dev python3 nodejs npm tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /build -j"$(nproc)" --target radio-setup radio-streamer radio-healthmon \
    && install -m 0755 /build/setup/radio-setup /build/streamer/radio-streamer \
         /build/healthmon/radio-healthmon /usr/local/bin/ \
    && web/vendor/install.sh \
    && mkdir -p /usr/share/ipfs-radio/web \
    && find web -maxdepth 1 -type f ! -name '.*' -exec cp {} /usr/share/ipfs-radio/web/ \;

FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends \
      libavformat59 libavcodec59 libswresample4 libswscale6 libavutil57 \
      libcurl4 libjansson4 libsodium23 libebur128-1 libmicrohttpd12 ca-certificates \
      tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data radio
COPY --from=build /usr/local/bin/radio-* /usr/local/bin/
# The listener page setup adds to IPFS (config/docker/setup.config.json).
COPY --from=build /usr/share/ipfs-radio/web /usr/share/ipfs-radio/web
COPY config /etc/ipfs-radio
USER radio
WORKDIR /data
