/**
 * FakeApp objects (simulator.rollout-doctor.dev/v1) become small HTTP servers on loopback, so that
 * endpoint probes (LiteLLM /v1/models, Sympozium /healthz) talk to something real in simulation.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { asRecord } from './kinds.js';
import type { KubeObject } from './store.js';
import type { FakeAppHandle } from './types.js';

export interface FakeRoute {
  path: string;
  method?: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Expected bearer token; undefined when the route is open. `null` when its source is unset. */
  bearerToken?: string | null;
  delayMs: number;
}

export interface FakeAppSpec {
  name: string;
  host: string;
  port: number;
  routes: FakeRoute[];
}

/** Whether a host is a loopback address (127.0.0.0/8, ::1 or localhost). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255);
}

function splitListen(listen: string, app: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  if (!m) throw new Error(`FakeApp ${app}: spec.listen must be host:port, got ${JSON.stringify(listen)}`);
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (!isLoopbackHost(host)) throw new Error(`FakeApp ${app}: spec.listen ${listen} is not a loopback address (127.0.0.0/8 or ::1)`);
  if (port > 65535) throw new Error(`FakeApp ${app}: port ${port} is out of range`);
  return { host, port };
}

function resolveToken(source: unknown, app: string, scenarioDir: string | undefined): string | null | undefined {
  if (source === undefined || source === null) return undefined;
  const s = asRecord(source);
  if (typeof s['value'] === 'string') return s['value'];
  if (typeof s['env'] === 'string') return process.env[s['env']] ?? null;
  if (typeof s['file'] === 'string') {
    const file = path.resolve(scenarioDir ?? process.cwd(), s['file']);
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  }
  throw new Error(`FakeApp ${app}: bearerToken needs one of value, env or file`);
}

/** Reads a FakeApp object into a spec; throws naming the app when it is malformed. */
export function parseFakeApp(object: KubeObject, scenarioDir: string | undefined): FakeAppSpec {
  const name = String(asRecord(object['metadata'])['name'] ?? '');
  const spec = asRecord(object['spec']);
  if (typeof spec['listen'] !== 'string') throw new Error(`FakeApp ${name}: spec.listen is required`);
  const { host, port } = splitListen(spec['listen'], name);
  const rawRoutes = Array.isArray(spec['routes']) ? spec['routes'] : [];
  const routes = rawRoutes.map((raw, i): FakeRoute => {
    const r = asRecord(raw);
    if (typeof r['path'] !== 'string') throw new Error(`FakeApp ${name}: routes[${i}].path is required`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(r['headers']))) headers[k.toLowerCase()] = String(v);
    let body: Buffer;
    if (typeof r['body'] === 'string') {
      body = Buffer.from(r['body']);
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else if (r['body'] === undefined) {
      body = Buffer.alloc(0);
    } else {
      body = Buffer.from(JSON.stringify(r['body']));
      headers['content-type'] ??= 'application/json';
    }
    return {
      path: r['path'],
      method: typeof r['method'] === 'string' ? r['method'].toUpperCase() : undefined,
      status: typeof r['status'] === 'number' ? r['status'] : 200,
      headers,
      body,
      bearerToken: resolveToken(r['bearerToken'], name, scenarioDir),
      delayMs: typeof r['delayMs'] === 'number' ? r['delayMs'] : 0,
    };
  });
  return { name, host, port, routes };
}

function json(status: number, body: unknown): { status: number; headers: Record<string, string>; body: Buffer } {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** One running fake app. */
export class FakeAppServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(readonly spec: FakeAppSpec) {
    this.server = createServer((req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
      const method = req.method ?? 'GET';
      const onPath = spec.routes.filter((r) => r.path === pathname);
      const route = onPath.find((r) => r.method === undefined || r.method === method);
      let answer: { status: number; headers: Record<string, string>; body: Buffer };
      let delayMs = 0;
      if (onPath.length === 0) answer = json(404, { error: 'not found' });
      else if (!route) answer = json(405, { error: 'method not allowed' });
      else if (route.bearerToken !== undefined && (route.bearerToken === null || req.headers.authorization !== `Bearer ${route.bearerToken}`)) {
        answer = json(401, { error: 'unauthorized' });
      } else {
        answer = { status: route.status, headers: route.headers, body: route.body };
        delayMs = route.delayMs;
      }
      const send = (): void => {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        res.end(method === 'HEAD' ? undefined : answer.body);
      };
      // The request body is not needed; drain it so keep-alive connections stay usable.
      req.resume();
      if (delayMs > 0) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!res.destroyed) send();
        }, delayMs);
        this.timers.add(t);
      } else {
        send();
      }
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  start(portOverride?: number): Promise<FakeAppHandle> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (err) => reject(new Error(`FakeApp ${this.spec.name}: cannot listen on ${this.spec.host}:${this.spec.port}: ${err.message}`)));
      this.server.listen(portOverride ?? this.spec.port, this.spec.host, () => {
        const addr = this.server.address();
        if (addr === null || typeof addr === 'string') {
          reject(new Error(`FakeApp ${this.spec.name}: no TCP address`));
          return;
        }
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        this.url = `http://${host}:${addr.port}`;
        const declaredHost = this.spec.host.includes(':') ? `[${this.spec.host}]` : this.spec.host;
        resolve({ name: this.spec.name, url: this.url, declared: `http://${declaredHost}:${this.spec.port}` });
      });
    });
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.server.listening) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return closed;
  }
}
