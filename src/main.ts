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
  // SIGTERM (orchestrators, `docker stop`) and SIGINT (Ctrl-C) drain within SHUTDOWN_TIMEOUT_SECONDS, then exit 0.
  // A repeated signal changes nothing: the drain already has a deadline.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, deadlineMs: config.shutdownTimeoutMs }, 'stopping');
    // The drain ends at its deadline by itself; should anything still hang (Redis not letting go), exit anyway.
    setTimeout(() => {
      app.log.error('shutdown did not finish after its deadline; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000).unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // Before listening: as PID 1 in a container a signal during start-up would otherwise be ignored.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const port = await app.start();
  if (config.graphiql) app.log.info(`GraphiQL: http://localhost:${port}/graphql`);
  if (config.console) app.log.info(`Console: http://localhost:${port}/console`);
} catch (err) {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(1);
}
