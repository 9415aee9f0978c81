/** /metrics: the exposition rendered at the end of the last cycle. */
import type { FastifyInstance } from 'fastify';

export interface MetricsSource {
  text(): string;
  readonly contentType: string;
}

export function registerMetricsRoute(app: FastifyInstance, source: MetricsSource): void {
  app.get('/metrics', async (_request, reply) => reply.type(source.contentType).header('cache-control', 'no-store').send(source.text()));
}
