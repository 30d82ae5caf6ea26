# syntax=docker/dockerfile:1
# The gateway's image: `docker compose up` (docker-compose.yml) builds it, or `docker build -t agent-progress-gateway .`.
# test/integration/deployment.test.ts runs this file's CMD, ENV and HEALTHCHECK against the built dist/.

# Production dependencies only, straight from the lockfile. None of them has an install script.
FROM node:20-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Every dependency, then codegen and tsc into dist/, and the console (Vite) into dist/console/.
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json codegen.ts ./
COPY schema ./schema
COPY client ./client
COPY src ./src
COPY console ./console
RUN npm run build

# Runtime: package.json (it makes dist/ ES modules), production node_modules and dist/, owned by root and run as
# the unprivileged `node` user, so the process cannot rewrite its own code.
FROM node:20-alpine
WORKDIR /app
# Production refuses to start without JWT_SECRET (or JWT_PUBLIC_KEY / JWT_JWKS_URL) and PUBLISH_TOKEN_SECRET: pass them
# at run time, never here. GraphiQL and introspection are off unless GRAPHIQL / INTROSPECTION say otherwise.
ENV NODE_ENV=production PORT=4000
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
# Liveness: the process answers HTTP. Readiness (/ready: Redis reachable) is for the load balancer, not for restarts.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM and SIGINT itself (src/main.ts): sockets closed with 1001, Redis quit, exit 0.
# It starts no child processes, so there are no zombies to reap and no init (tini, --init) is needed.
# Semi-spaces of 32 MB (V8's default: 16): at load, a publish's request objects lived through one or two scavenges
# and were promoted, then left for full collections; fewer survive the less frequent scavenges. bench/README.md has
# the measurement (more publishes/s through the mutation, no more RSS per held subscription).
# No allocation-site pretenuring: in a burst (browsers connecting, agents publishing) nearly every object a request
# allocates is still in flight at a scavenge, so V8 marked those allocation sites long-lived and allocated their later
# objects straight into the old generation, where they died young and waited for full collections: the old
# generation grew by tens of MB and the process kept it. Without it, 13.6-14.8 KiB of RSS per held subscription instead
# of 16.7-17.6, and more publishes/s (bench/README.md). The load benchmark starts the gateway with the flags written here.
CMD ["node", "--max-semi-space-size=32", "--no-allocation-site-pretenuring", "dist/src/main.js"]
