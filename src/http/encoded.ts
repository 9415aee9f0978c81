/**
 * Sends a body encoded once (src/encoded-body.ts): the gzip when the client takes it and it is ready;
 * otherwise the identity, which a large body has only as its gzip, inflated as it is sent.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EncodedBody } from '../encoded-body.js';

function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    return q === undefined || Number(q) > 0;
  });
}

export function sendEncoded(request: FastifyRequest, reply: FastifyReply, body: EncodedBody): FastifyReply {
  reply.header('vary', 'accept-encoding');
  const compressed = body.gzip;
  if (compressed && acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(compressed);
  if (body.identity) return reply.send(body.identity);
  // Kept only as the gzip: inflated as it is sent, with the identity's length (a stream has none of
  // its own). HEAD sends the headers only (an empty stream, so fastify keeps this Content-Length).
  reply.header('content-length', String(body.length));
  return reply.send(request.method === 'HEAD' ? Readable.from([]) : body.inflate());
}
