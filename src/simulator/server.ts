/**
 * The simulated Kubernetes API over HTTPS: transport, authentication (bearer token), impersonation
 * (Kubernetes v1.32.0 staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go),
 * authorization (system:masters, then RBAC), injected faults and latency, and the request log.
 * What each path answers is routing.ts's. It uses node:https directly because the hang, stall and
 * truncate faults need control of the socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ReviewContext } from './access-reviews.js';
import { ListSnapshots } from './lists.js';
import type { PodLogContext } from './pod-logs.js';
import { forbiddenMessage, userInfo, type AuthorizationAttributes, type RbacAuthorizer, type UserInfo } from './rbac.js';
import { BufferReply, HttpReply, JSON_TYPE, TEXT_TYPE, type Reply } from './reply.js';
import { parseApiPath, PlainNotFound, Router, verbFor, type ApiTarget } from './routing.js';
import { ApiError, defaultMessage, notFound, statusBody } from './status.js';
import type { ObjectStore } from './store.js';
import { servingIdentity } from './tls.js';
import type { Fault, RequestLogEntry } from './types.js';
import type { KindRegistry } from './kinds.js';
import { closestName } from '../did-you-mean.js';
import { Writer } from './writes.js';

/** The user a request is evaluated as when RBAC is not enforced (what a kind/kubeadm admin kubeconfig is). */
export const ADMIN_USER = 'kubernetes-admin';

const FAULT_WORDS = new Set(['hang', 'stall', 'garbage', 'truncate']);

export interface ApiServerOptions {
  store: ObjectStore;
  authorizer: RbacAuthorizer;
  token: string;
  /** `<scenario>/logs`; no logs when undefined. */
  logsDir: string | undefined;
  now: () => number;
  enforceRbacSubject: string | undefined;
  retryAfterSeconds: number;
  latencyMs: number;
  faults: Record<string, Fault>;
  requestLogLimit: number;
  /** Items of every list answer in random order (this source of randomness). */
  shuffle: (() => number) | undefined;
  bookmarkIntervalMs: number;
  /** kube-apiserver --watch-cache (default true). */
  watchCache: boolean;
}

/** Checks a fault before it is set: an HTTP status, or one of the fault words. */
export function validateFault(resource: string, fault: Fault): void {
  if (typeof fault === 'number' && (!Number.isInteger(fault) || fault < 100 || fault > 599)) {
    throw new Error(`fault for ${resource}: ${fault} is not an HTTP status code`);
  }
  if (typeof fault !== 'number' && !FAULT_WORDS.has(fault)) throw new Error(`fault for ${resource}: unknown fault ${String(fault)}`);
}

/** Verbs a `VERB:` fault prefix may name (the request verbs verbFor derives). */
const FAULT_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * The key a fault is matched by (`[verb:]plural[/subresource]` or `*`), from what a user writes:
 * also the `plural.group` form rollout-doctor prints (`deployments.apps`, `rollouts.argoproj.io`).
 * A resource this simulator does not know is an error, not a fault that never fires.
 */
export function faultKey(spec: string, registry: KindRegistry): string {
  const colon = spec.indexOf(':');
  const verb = colon === -1 ? undefined : spec.slice(0, colon);
  const target = colon === -1 ? spec : spec.slice(colon + 1);
  if (verb !== undefined && !FAULT_VERBS.has(verb)) throw new Error(`fault for ${spec}: unknown verb "${verb}" (${[...FAULT_VERBS].join(', ')})`);
  if (target === '*') return spec;
  const slash = target.indexOf('/');
  const resource = slash === -1 ? target : target.slice(0, slash);
  const dot = resource.indexOf('.');
  const plural = dot === -1 ? resource : resource.slice(0, dot);
  const group = dot === -1 ? undefined : resource.slice(dot + 1);
  const served = registry.all().filter((rt) => !rt.isInternal);
  const known = served.some((rt) => rt.plural === plural && (group === undefined || rt.group === group));
  if (!known) {
    const names = [...new Set(served.map((rt) => (rt.group ? `${rt.plural}.${rt.group}` : rt.plural)))].sort();
    const close = closestName(resource, [...served.map((rt) => rt.plural), ...names]);
    const hint = close === undefined ? `resources: ${names.join(', ')}` : `did you mean "${close}"?`;
    throw new Error(`fault for ${spec}: the simulated cluster serves no resource ${resource} (${hint})`);
  }
  return `${verb === undefined ? '' : `${verb}:`}${plural}${slash === -1 ? '' : target.slice(slash)}`;
}

export class ApiServer {
  latencyMs: number;
  readonly faults = new Map<string, Fault>();
  readonly requests: RequestLogEntry[] = [];
  readonly snapshots: ListSnapshots;
  private server: Server | undefined;
  private readonly router: Router;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private address = '';
  private isClosed = false;

  constructor(private readonly options: ApiServerOptions) {
    this.latencyMs = options.latencyMs;
    for (const [resource, fault] of Object.entries(options.faults)) this.setFault(resource, fault);
    this.snapshots = new ListSnapshots(options.now);
    const logs: PodLogContext = { logsDir: options.logsDir, now: options.now };
    const reviews: ReviewContext = { authorizer: options.authorizer };
    const writer = new Writer({ store: options.store, now: options.now, requireNamespaces: true });
    this.router = new Router({
      store: options.store,
      reviews,
      lists: { store: options.store, snapshots: this.snapshots, watchCache: options.watchCache, shuffle: options.shuffle },
      watches: { store: options.store, bookmarkIntervalMs: options.bookmarkIntervalMs, timers: this.timers },
      logs,
      writer,
      now: options.now,
      serverAddress: () => this.address,
    });
  }

  setFault(resource: string, fault: Fault): void {
    validateFault(resource, fault);
    this.faults.set(faultKey(resource, this.options.store.registry), fault);
  }

  async listen(host: string, port: number): Promise<string> {
    const identity = await servingIdentity(host);
    const server = createServer({ key: identity.keyPem, cert: identity.certPem }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // A client that drops the TLS handshake is not the server's problem.
    server.on('tlsClientError', () => undefined);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        if (addr === null || typeof addr === 'string') {
          reject(new Error('simulator: server has no TCP address'));
          return;
        }
        this.address = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
        resolve(`https://${this.address}`);
      });
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  private record(entry: RequestLogEntry): void {
    this.requests.push(entry);
    const limit = this.options.requestLogLimit;
    // Trimmed in batches so that a soak test does not pay an O(n) splice per request.
    if (this.requests.length > limit + Math.max(1, Math.floor(limit / 10))) this.requests.splice(0, this.requests.length - limit);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const apiErr = err instanceof ApiError ? err : new ApiError(500, `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
    const body = JSON.stringify(apiErr.body());
    res.writeHead(apiErr.code, { ...apiErr.headers, 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  private authenticate(req: IncomingMessage): UserInfo | undefined {
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return undefined;
    const subject = this.options.enforceRbacSubject;
    return subject ? userInfo(subject) : { name: ADMIN_USER, groups: ['system:masters', 'system:authenticated'] };
  }

  private isAllowed(attrs: AuthorizationAttributes): boolean {
    return attrs.user.groups.includes('system:masters') || this.options.authorizer.authorize(attrs).allowed;
  }

  /**
   * The user a request acts as: the impersonated one when Impersonate-* headers ask for it and the
   * requester may `impersonate` each part (else 403), with the groups impersonation.go gives.
   */
  private impersonate(req: IncomingMessage, requester: UserInfo): UserInfo {
    const userHeader = req.headers['impersonate-user'];
    const groupHeader = req.headers['impersonate-group'];
    const requestedUser = Array.isArray(userHeader) ? userHeader[0] : userHeader;
    const requestedGroups = groupHeader === undefined ? [] : (Array.isArray(groupHeader) ? groupHeader : [groupHeader]).flatMap((g) => g.split(',').map((x) => x.trim()));
    const uid = req.headers['impersonate-uid'];
    const extras = Object.keys(req.headers).filter((h) => h.startsWith('impersonate-extra-'));
    if (!requestedUser && requestedGroups.length === 0 && !uid && extras.length === 0) return requester;
    const checks: AuthorizationAttributes[] = [];
    let name = '';
    let groups: string[] = [];
    if (requestedUser) {
      const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(requestedUser);
      if (sa) {
        checks.push({ user: requester, verb: 'impersonate', resource: 'serviceaccounts', group: '', namespace: sa[1], name: sa[2] });
        if (requestedGroups.length === 0) groups = ['system:serviceaccounts', `system:serviceaccounts:${sa[1] as string}`];
      } else checks.push({ user: requester, verb: 'impersonate', resource: 'users', group: '', name: requestedUser });
      name = requestedUser;
    }
    for (const g of requestedGroups) {
      checks.push({ user: requester, verb: 'impersonate', resource: 'groups', group: '', name: g });
      groups.push(g);
    }
    if (typeof uid === 'string' && uid !== '') checks.push({ user: requester, verb: 'impersonate', resource: 'uids', group: 'authentication.k8s.io', name: uid });
    for (const header of extras) {
      const values = req.headers[header];
      for (const value of Array.isArray(values) ? values : [values ?? '']) {
        checks.push({ user: requester, verb: 'impersonate', resource: 'userextras', subresource: decodeURIComponent(header.slice('impersonate-extra-'.length)), group: 'authentication.k8s.io', name: value });
      }
    }
    for (const attrs of checks) {
      if (!this.isAllowed(attrs)) {
        throw new ApiError(403, forbiddenMessage(attrs), { ...(attrs.name ? { name: attrs.name } : {}), ...(attrs.group ? { group: attrs.group } : {}), kind: attrs.resource });
      }
    }
    if (name === 'system:anonymous') {
      if (!groups.includes('system:unauthenticated')) groups.push('system:unauthenticated');
    } else if (!groups.includes('system:authenticated') && !groups.includes('system:unauthenticated')) groups.push('system:authenticated');
    return { name, groups };
  }

  private faultFor(verb: string, resource: string): Fault | undefined {
    const f = this.faults;
    return f.get(`${verb}:${resource}`) ?? f.get(resource) ?? f.get(`${verb}:*`) ?? f.get('*');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://simulator.invalid');
    const entry: RequestLogEntry = { method, path: url.pathname, resource: '', group: '', verb: method.toLowerCase(), status: 0, bytes: 0, user: '', forbidden: false, durationMs: 0 };
    if (url.search !== '') entry.query = url.search.slice(1);
    this.record(entry);
    const finish = (): void => {
      if (res.headersSent) entry.status = res.statusCode;
      if (entry.durationMs === 0) entry.durationMs = performance.now() - started;
    };
    let isGone = false;
    res.on('finish', finish);
    res.on('close', () => {
      isGone = true;
      finish();
    });
    const reply = new HttpReply(res, entry);
    const target = parseApiPath(url.pathname);
    if (target.kind === 'health') {
      reply.send(200, TEXT_TYPE, 'ok');
      return;
    }
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    entry.verb = verbFor(method, target, isWatch);
    if (target.kind === 'resource' && target.plural !== undefined) {
      entry.resource = target.subresource ? `${target.plural}/${target.subresource}` : target.plural;
      entry.group = target.group;
      if (target.namespace !== undefined) entry.namespace = target.namespace;
    }
    const authenticated = this.authenticate(req);
    entry.user = authenticated?.name ?? 'system:anonymous';

    if (this.latencyMs > 0) {
      await this.sleep(this.latencyMs);
      // The client gave up while we waited.
      if (isGone) return;
    }
    const fault = this.faultFor(entry.verb, entry.resource);
    const attributes = (u: UserInfo): AuthorizationAttributes =>
      target.kind !== 'resource'
        ? { user: u, verb: entry.verb, path: url.pathname }
        : { user: u, verb: entry.verb, resource: target.plural, subresource: target.subresource, group: target.group, namespace: target.namespace, name: target.name };
    // An answer that does not read the request's body still lets it drain, so that the connection
    // can carry the client's next request.
    if (fault !== undefined) req.resume();
    if (fault === 'hang') return;
    if (fault === 'stall' && !isWatch) {
      res.writeHead(200, { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      return;
    }
    if (fault === 'garbage') {
      reply.send(200, JSON_TYPE, '{"kind":"Status","apiVersion":"v1","items":[{"metadata":{"name":"\u0000garbage<<<');
      return;
    }
    if (typeof fault === 'number' && !(isWatch && fault === 410)) {
      this.sendFault(reply, fault, target, attributes(authenticated ?? { name: 'system:anonymous', groups: [] }));
      return;
    }

    const respond = async (to: Reply): Promise<void> => {
      try {
        if (!authenticated) throw new ApiError(401, 'Unauthorized');
        const user = this.impersonate(req, authenticated);
        entry.user = user.name;
        const attrs = attributes(user);
        if (!this.isAllowed(attrs)) {
          entry.forbidden = true;
          throw new ApiError(403, forbiddenMessage(attrs), forbiddenDetails(target));
        }
        const watchFault = isWatch && (fault === 410 || fault === 'stall') ? fault : undefined;
        await this.router.dispatch({ req, method, params: url.searchParams, target, user, reply: to, watchFault });
      } catch (err) {
        req.resume();
        if (to.hasStarted) throw err;
        if (err instanceof PlainNotFound) {
          // http.NotFound in Go: text/plain, with X-Content-Type-Options nosniff.
          to.send(404, TEXT_TYPE, '404 page not found\n', { 'x-content-type-options': 'nosniff' });
          return;
        }
        const apiErr = err instanceof ApiError ? err : new ApiError(500, `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
        to.send(apiErr.code, JSON_TYPE, JSON.stringify(apiErr.body()), apiErr.headers);
      }
    };

    if (fault === 'truncate') {
      const buffered = new BufferReply();
      await respond(buffered);
      const body = Buffer.concat(buffered.chunks);
      const half = body.subarray(0, Math.floor(body.length / 2));
      entry.status = buffered.status;
      entry.bytes = half.length;
      res.writeHead(buffered.status, { ...buffered.headers, 'content-type': buffered.contentType, 'content-length': String(body.length) });
      // Flush the half, then cut the connection so the client sees a premature close.
      res.write(half, () => res.destroy());
      return;
    }
    await respond(reply);
  }

  private sendFault(reply: Reply, code: number, target: ApiTarget, attrs: AuthorizationAttributes): void {
    let message = defaultMessage(code);
    let details: Record<string, unknown> | undefined;
    const headers: Record<string, string> = {};
    if (code === 403) {
      message = forbiddenMessage(attrs);
      details = forbiddenDetails(target);
    } else if (code === 404 && target.plural !== undefined && target.name !== undefined) {
      const nf = notFound(target.plural, target.group, target.name);
      message = nf.message;
      details = { ...nf.details };
    } else if (code === 404) {
      details = {};
    } else if (code === 429) {
      details = { retryAfterSeconds: this.options.retryAfterSeconds };
      headers['retry-after'] = String(this.options.retryAfterSeconds);
    }
    reply.send(code, JSON_TYPE, JSON.stringify(statusBody(code, message, details)), headers);
  }
}

function forbiddenDetails(target: ApiTarget): Record<string, unknown> | undefined {
  if (target.kind !== 'resource' || target.plural === undefined) return undefined;
  const details: Record<string, unknown> = {};
  if (target.name) details['name'] = target.name;
  if (target.group) details['group'] = target.group;
  details['kind'] = target.plural;
  return details;
}

