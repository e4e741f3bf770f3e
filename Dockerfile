# One image recipe for every app: `docker build --build-arg APP=gateway .`
FROM node:20-bookworm-slim AS build
WORKDIR /repo
COPY package.json package-lock.json turbo.json tsconfig.base.json .npmrc ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY packages/testkit/package.json packages/testkit/
COPY apps/gateway/package.json apps/gateway/
COPY apps/users-service/package.json apps/users-service/
COPY apps/auth-service/package.json apps/auth-service/
COPY apps/mail-service/package.json apps/mail-service/
COPY apps/admin-cli/package.json apps/admin-cli/
COPY tests/e2e/package.json tests/e2e/
RUN npm ci
COPY . .
ARG APP
RUN test -n "$APP" && npx turbo run build --filter=@um/${APP}...

FROM node:20-bookworm-slim
ARG APP
ENV NODE_ENV=production APP=${APP}
WORKDIR /repo
COPY --from=build /repo /repo
WORKDIR /repo/apps/${APP}
USER node
CMD ["node", "dist/main.js"]
