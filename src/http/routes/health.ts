/** /health (JSON, or the text view: ?format=text, ?verbose=1, ?width=N), /livez and /readyz. */
import type { FastifyInstance } from 'fastify';
import type { EncodedBody } from '../../encoded-body.js';
import { sendEncoded } from '../encoded.js';
import type { HealthBody, HealthFilter, TextVariant } from '../health-view.js';
import { httpStatusFor, textWidthBucket } from '../health-view.js';
import { healthQuerySchema } from '../health-schema.js';
import { unknownNameMessage } from '../../did-you-mean.js';
import { DEFAULT_WIDTH } from '../text-view.js';

export interface HealthSource {
  health(filter: HealthFilter): {
    body: HealthBody;
    encodedJson(): EncodedBody;
    /** Renders the text view's table for a variant, in slices, unless it is rendered already. */
    renderTableInSteps(variant: TextVariant): Promise<void>;
    text(nowMs: number, variant: TextVariant): Buffer;
  };
  readonly isReady: boolean;
  /** The clock of "checked 12 s ago". */
  nowMs(): number;
}

/**
 * `checkIds`: the checks that run (and so may have results); a `?check=` naming another is a 404
 * that lists them, rather than an empty answer that looks like "nothing wrong".
 */
export function registerHealthRoutes(app: FastifyInstance, source: HealthSource, checkIds?: () => readonly string[]): void {
  app.get('/health', async (request, reply) => {
    const query = healthQuerySchema.safeParse(request.query);
    if (!query.success) {
      const message = query.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
      return reply.code(400).type('application/json; charset=utf-8').send(JSON.stringify({ error: message }));
    }
    const accept = request.headers.accept ?? '';
    const isText = query.data.format === 'text' || (query.data.format === undefined && /\btext\/plain\b/.test(accept) && !/application\/json/.test(accept));
    const ids = checkIds?.();
    if (ids && query.data.check !== undefined && !ids.includes(query.data.check)) {
      const message = unknownNameMessage(`no check "${query.data.check}" runs here`, query.data.check, ids, 'checks');
      reply.code(404).header('cache-control', 'no-store');
      if (isText) return reply.type('text/plain; charset=utf-8').send(`${message}\n`);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify({ error: message }));
    }
    const filter = { check: query.data.check, target: query.data.target };
    const rendered = source.health(filter);
    reply.code(httpStatusFor(rendered.body, filter)).header('cache-control', 'no-store');
    // The text view is plain (curl is not a terminal); its count line says the cycle's age now, the
    // rest is rendered once per cycle for this width and verbosity, at its first request (health-view.ts).
    if (isText) {
      const variant = { width: textWidthBucket(query.data.width ?? DEFAULT_WIDTH), verbose: query.data.verbose ?? false };
      await rendered.renderTableInSteps(variant);
      return reply.type('text/plain; charset=utf-8').send(rendered.text(source.nowMs(), variant));
    }
    return sendEncoded(request, reply.type('application/json; charset=utf-8'), rendered.encodedJson());
  });

  app.get('/livez', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));

  app.get('/readyz', async (_request, reply) => {
    if (source.isReady) return reply.type('text/plain; charset=utf-8').send('ready\n');
    return reply.code(503).type('text/plain; charset=utf-8').send('waiting for the first check cycle\n');
  });
}
