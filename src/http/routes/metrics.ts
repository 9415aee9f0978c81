/** /metrics: the exposition rendered at the end of the last cycle. */
import type { FastifyInstance } from 'fastify';
import type { EncodedBody } from '../../encoded-body.js';
import { sendEncoded } from '../encoded.js';

export interface MetricsSource {
  /** The exposition as rendered at the end of the last cycle, encoded once. */
  body(): EncodedBody;
  readonly contentType: string;
}

export function registerMetricsRoute(app: FastifyInstance, source: MetricsSource): void {
  app.get('/metrics', async (request, reply) => sendEncoded(request, reply.type(source.contentType).header('cache-control', 'no-store'), source.body()));
}
