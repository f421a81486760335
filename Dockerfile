# Switchyard media node. Build: docker build -t switchyard .
# Run:   docker run --network host -e SWITCHYARD_MEDIA_ANNOUNCED_ADDRESS=<public ip> switchyard
# (see docs/deploy.md; host networking keeps the one-port-per-worker media ports simple)

# --- build: compile the mediasoup worker against Debian's libraries and the TypeScript sources
FROM node:20-bookworm AS build
WORKDIR /app
COPY scripts/system-packages.mjs scripts/
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(node scripts/system-packages.mjs worker) \
	&& rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY patches ./patches
# npm ci runs scripts/build-worker.mjs (the root package's postinstall), as on a developer's machine.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The TypeScript and the web client bundle (dist/public).
RUN npm run build && npm prune --omit=dev

# --- run: only the runtime libraries the worker links against
FROM node:20-bookworm-slim
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		libssl3 libuv1 libsrtp2-1 libusrsctp2 libabsl20220623 \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
ENV NODE_ENV=production \
	SWITCHYARD_HTTP_HOST=0.0.0.0 \
	SWITCHYARD_MEDIA_LISTEN_IP=0.0.0.0
USER node
# HTTP, then one UDP and one TCP media port per worker (media.port + index; 4 workers here).
EXPOSE 3000 40000-40003/udp 40000-40003/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
	CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
