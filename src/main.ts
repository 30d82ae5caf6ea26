import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

try {
  const config = loadConfig();
  const app = await buildApp(config);
  if (!config.auth) {
    app.log.warn(
      'DEVELOPMENT MODE: no authentication. Callers are who they claim to be (x-user-id header, userId connection parameter, default "dev"). Never expose this to a network.',
    );
  }
  if (config.auth && !config.publishTokenSecret) {
    app.log.warn('PUBLISH_TOKEN_SECRET is not set: publish tokens are signed with a random per-process secret (no use across restarts or replicas)');
  }
  if (!config.redisUrl) app.log.warn('REDIS_URL is not set: using the embedded in-process event log (one process, nothing persisted)');
  const port = await app.start();
  if (config.graphiql) app.log.info(`GraphiQL: http://localhost:${port}/graphql`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(1);
}
