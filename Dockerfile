# The whole Trellis stack in one image (used by docker-compose.yml). The demo's catalog-service needs Python 3.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /trellis
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
COPY . .
RUN npm ci && npm run build
EXPOSE 3000 4318 15010 8080
CMD ["node", "apps/cli/bin/trellis.mjs", "up", "--no-build"]
