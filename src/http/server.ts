/**
 * The HTTP server, built without listening so tests inject requests or listen on loopback
 * themselves (lightship's pattern). Handlers only read what the daemon prepared in memory.
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../log.js';
import { registerHealthRoutes, type HealthSource } from './routes/health.js';
import { registerMetricsRoute, type MetricsSource } from './routes/metrics.js';

export interface ServerDeps {
  health: HealthSource;
  metrics: MetricsSource;
  log?: Logger;
  /** The checks that run: a /health?check= naming another is a 404 listing them. */
  checkIds?: () => readonly string[];
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    ...(deps.log ? { loggerInstance: deps.log.child({ component: 'http' }) } : { logger: false }),
    // Scrapes and health polls every few seconds would drown the status-change lines.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  registerHealthRoutes(app, deps.health, deps.checkIds);
  registerMetricsRoute(app, deps.metrics);
  app.get('/', async (_request, reply) => {
    reply.type('text/plain; charset=utf-8');
    return 'rollout-doctor\n\n/health               JSON results (?check=ID&target=T, ?format=text&verbose=1&width=N)\n/metrics              Prometheus metrics\n/livez /readyz        probes\n';
  });
  return app;
}
