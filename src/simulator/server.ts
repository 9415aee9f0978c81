/**
 * The simulated Kubernetes API over node:http: routing on the real REST paths, authentication by
 * bearer token, optional RBAC enforcement, injected faults and latency, and a request log. It uses
 * node:http directly because hang and truncate faults need control of the socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { asRecord, type ResourceType } from './kinds.js';
import { firstExisting, logFileCandidates, streamLogFile, type LogWriter } from './logs.js';
import { forbiddenMessage, userInfo, type AuthorizationAttributes, type RbacAuthorizer, type UserInfo } from './rbac.js';
import {
  compileFieldSelector,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  type LabelRequirement,
} from './selectors.js';
import { ApiError, badRequest, defaultMessage, notFound, statusBody, unknownResource } from './status.js';
import { compareKeys, entryJson, type Entry, type KubeObject, type ObjectStore } from './store.js';
import type { Fault, RequestLogEntry } from './types.js';

const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);
const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const MAX_REQUEST_BODY = 1024 * 1024;
/** Lists bigger than this are written in batches of about this size. */
const LIST_BATCH_BYTES = 256 * 1024;

/** The user a request without enforcement is evaluated as (what a kind/kubeadm admin kubeconfig is). */
export const ADMIN_USER = 'kubernetes-admin';

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
}

/** What a request addresses, parsed from the REST path. */
interface ApiTarget {
  /** Resource request when `plural` is set; discovery or non-resource otherwise. */
  group: string;
  version: string;
  plural?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Discovery documents: /api, /apis, /apis/{g}, /api/v1, /apis/{g}/{v}. */
  discovery?: 'versions' | 'groups' | 'group' | 'resources';
  isUnknown: boolean;
}

function parseApiPath(segments: string[]): ApiTarget {
  const unknown: ApiTarget = { group: '', version: '', isUnknown: true };
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { group: '', version: '', discovery: 'versions', isUnknown: false };
    group = '';
    version = segments[1] as string;
    rest = segments.slice(2);
  } else {
    if (segments.length === 1) return { group: '', version: '', discovery: 'groups', isUnknown: false };
    group = segments[1] as string;
    if (segments.length === 2) return { group, version: '', discovery: 'group', isUnknown: false };
    version = segments[2] as string;
    rest = segments.slice(3);
  }
  if (rest.length === 0) return { group, version, discovery: 'resources', isUnknown: false };
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length > 5) return unknown;
    return { group, version, namespace: rest[1], plural: rest[2], name: rest[3], subresource: rest[4], isUnknown: false };
  }
  if (rest.length > 3) return unknown;
  return { group, version, plural: rest[0], name: rest[1], subresource: rest[2], isUnknown: false };
}

function verbFor(method: string, target: ApiTarget, isWatch: boolean): string {
  if (target.plural === undefined) return method.toLowerCase();
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (isWatch) return 'watch';
      return target.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return target.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

/** Where an answer goes: the socket, or a buffer (for the truncate fault). */
interface Reply {
  send(status: number, contentType: string, body: Buffer | string, headers?: Record<string, string>): void;
  /** Streams a body of known or unknown length; `produce` gets a writer honouring backpressure. */
  stream(status: number, contentType: string, contentLength: number | undefined, produce: (write: LogWriter) => Promise<void>): Promise<void>;
  readonly hasStarted: boolean;
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

class HttpReply implements Reply {
  hasStarted = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly entry: RequestLogEntry,
  ) {}

  send(status: number, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    this.hasStarted = true;
    this.entry.status = status;
    this.res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(buf.length) });
    this.entry.bytes += buf.length;
    this.res.end(buf);
  }

  async stream(status: number, contentType: string, contentLength: number | undefined, produce: (write: LogWriter) => Promise<void>): Promise<void> {
    const res = this.res;
    this.hasStarted = true;
    this.entry.status = status;
    const headers: Record<string, string> = { 'content-type': contentType };
    if (contentLength !== undefined) headers['content-length'] = String(contentLength);
    res.writeHead(status, headers);
    await produce(async (chunk) => {
      if (res.destroyed) return false;
      this.entry.bytes += chunk.length;
      if (!res.write(chunk)) await waitForDrain(res);
      return !res.destroyed;
    });
    if (!res.destroyed) res.end();
  }
}

/** Collects an answer so that the truncate fault can send half of it. */
class BufferReply implements Reply {
  hasStarted = false;
  status = 200;
  contentType = JSON_TYPE;
  headers: Record<string, string> = {};
  chunks: Buffer[] = [];

  send(status: number, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void {
    this.hasStarted = true;
    this.status = status;
    this.contentType = contentType;
    this.headers = headers;
    this.chunks.push(typeof body === 'string' ? Buffer.from(body) : body);
  }

  async stream(status: number, contentType: string, _contentLength: number | undefined, produce: (write: LogWriter) => Promise<void>): Promise<void> {
    this.hasStarted = true;
    this.status = status;
    this.contentType = contentType;
    await produce(async (chunk) => {
      this.chunks.push(chunk);
      return true;
    });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BODY) {
        reject(new ApiError(413, 'Request entity too large: limit is 1048576'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface ContinueToken {
  rv: string;
  namespace: string;
  name: string;
}

/**
 * Continue tokens look like etcd3's: base64url of
 * {"v":"meta.k8s.io/v1","rv":<list resourceVersion>,"start":"<namespace>/<name>\u0000"}
 * (cluster-scoped: "<name>\u0000"); the next page starts after that key in the current store.
 */
export function encodeContinue(rv: string, namespace: string, name: string, isNamespaced: boolean): string {
  const start = `${isNamespaced ? `${namespace}/` : ''}${name}\u0000`;
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start })).toString('base64url');
}

export function decodeContinue(token: string, isNamespaced: boolean): ContinueToken {
  const invalid = (why: string): ApiError => badRequest(`continue key is not valid: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a valid continue token');
  }
  const t = asRecord(parsed);
  if (t['v'] !== 'meta.k8s.io/v1') throw invalid('server does not recognize this encoded version');
  const start = t['start'];
  if (typeof start !== 'string' || !start.endsWith('\u0000') || typeof t['rv'] !== 'number') throw invalid('malformed token');
  const key = start.slice(0, -1);
  if (!isNamespaced) return { rv: String(t['rv']), namespace: '', name: key };
  const slash = key.indexOf('/');
  if (slash === -1) throw invalid('malformed start key');
  return { rv: String(t['rv']), namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** First index whose key sorts after (namespace, name). */
function indexAfter(entries: Entry[], namespace: string, name: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid] as Entry;
    if (compareKeys(e.namespace, e.name, namespace, name) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseIntParam(params: URLSearchParams, name: string, min: number): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min) throw new ApiError(422, `${name}: Invalid value: ${n}: must be greater than${min === 0 ? ' or equal to' : ''} ${min === 0 ? 0 : min - 1}`);
  return n;
}

function isTrue(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  return v === 'true' || v === '1';
}

export class ApiServer {
  latencyMs: number;
  readonly faults = new Map<string, Fault>();
  readonly requests: RequestLogEntry[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private address = '';
  private isClosed = false;

  constructor(private readonly options: ApiServerOptions) {
    this.latencyMs = options.latencyMs;
    for (const [resource, fault] of Object.entries(options.faults)) this.setFault(resource, fault);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  setFault(resource: string, fault: Fault): void {
    if (typeof fault === 'number' && (!Number.isInteger(fault) || fault < 100 || fault > 599)) {
      throw new Error(`fault for ${resource}: ${fault} is not an HTTP status code`);
    }
    if (typeof fault !== 'number' && !['hang', 'garbage', 'truncate'].includes(fault)) {
      throw new Error(`fault for ${resource}: unknown fault ${String(fault)}`);
    }
    this.faults.set(resource, fault);
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr === null || typeof addr === 'string') {
          reject(new Error('simulator: server has no TCP address'));
          return;
        }
        this.address = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
        resolve(`http://${this.address}`);
      });
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
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
    const header = req.headers.authorization;
    if (header !== `Bearer ${this.options.token}`) return undefined;
    const subject = this.options.enforceRbacSubject;
    return subject ? userInfo(subject) : { name: ADMIN_USER, groups: ['system:masters', 'system:authenticated'] };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const pathname = url.pathname;
    const entry: RequestLogEntry = {
      method,
      path: pathname,
      resource: '',
      group: '',
      verb: method.toLowerCase(),
      status: 0,
      bytes: 0,
      user: '',
      forbidden: false,
      durationMs: 0,
    };
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

    if (HEALTH_PATHS.has(pathname)) {
      reply.send(200, TEXT_TYPE, 'ok');
      return;
    }

    let segments: string[];
    try {
      segments = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      throw badRequest(`invalid path ${pathname}`);
    }
    const isApi = segments[0] === 'api' || segments[0] === 'apis';
    const target: ApiTarget = isApi ? parseApiPath(segments) : { group: '', version: '', isUnknown: pathname !== '/version' };
    const isWatch = isTrue(url.searchParams, 'watch');
    entry.verb = verbFor(method, target, isWatch);
    if (target.plural !== undefined) {
      entry.resource = target.subresource ? `${target.plural}/${target.subresource}` : target.plural;
      entry.group = target.group;
      if (target.namespace !== undefined) entry.namespace = target.namespace;
    }
    const user = this.authenticate(req);
    entry.user = user?.name ?? 'system:anonymous';

    if (this.latencyMs > 0) {
      await this.sleep(this.latencyMs);
      // The client gave up while we waited.
      if (isGone) return;
    }
    const fault = this.faults.get(entry.resource) ?? this.faults.get('*');
    const attributes = (u: UserInfo): AuthorizationAttributes =>
      target.plural === undefined
        ? { user: u, verb: entry.verb, path: pathname }
        : {
            user: u,
            verb: entry.verb,
            resource: target.plural,
            subresource: target.subresource,
            group: target.group,
            namespace: target.namespace,
            name: target.name,
          };
    if (fault === 'hang') return;
    if (fault === 'garbage') {
      reply.send(200, JSON_TYPE, '{"kind":"Status","apiVersion":"v1","items":[{"metadata":{"name":"\u0000garbage<<<');
      return;
    }
    if (typeof fault === 'number') {
      this.sendFault(reply, fault, target, attributes(user ?? { name: 'system:anonymous', groups: [] }));
      return;
    }

    const respond = async (to: Reply): Promise<void> => {
      try {
        if (!user) throw new ApiError(401, 'Unauthorized');
        if (this.options.enforceRbacSubject) {
          const attrs = attributes(user);
          const decision = this.options.authorizer.authorize(attrs);
          if (!decision.allowed) {
            entry.forbidden = true;
            throw new ApiError(403, forbiddenMessage(attrs), forbiddenDetails(target));
          }
        }
        if (target.isUnknown) {
          if (!isApi) {
            to.send(404, TEXT_TYPE, '404 page not found\n');
            return;
          }
          throw unknownResource();
        }
        await this.dispatch(req, url.searchParams, target, user, to);
      } catch (err) {
        if (to.hasStarted) throw err;
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

  private servedType(target: ApiTarget): ResourceType | undefined {
    if (target.plural === undefined) return undefined;
    const rt = this.options.store.registry.byGroupPlural(target.group, target.plural);
    if (!rt || !rt.versions.includes(target.version) || !this.options.store.isServed(rt)) return undefined;
    return rt;
  }

  private async dispatch(req: IncomingMessage, params: URLSearchParams, target: ApiTarget, user: UserInfo, reply: Reply): Promise<void> {
    if (target.discovery) {
      this.discovery(target, reply);
      return;
    }
    if (target.plural === undefined) {
      reply.send(200, JSON_TYPE, JSON.stringify(versionInfo()));
      return;
    }
    const rt = this.servedType(target);
    if (!rt) throw unknownResource();
    // A namespaced path for a cluster-scoped type (or the reverse for a named object) is unknown.
    if (target.namespace !== undefined && !rt.namespaced) throw unknownResource();
    if (target.namespace === undefined && rt.namespaced && target.name !== undefined) throw unknownResource();
    const method = req.method ?? 'GET';

    if (rt.verbs.includes('create')) {
      if (method !== 'POST' || target.name !== undefined) throw new ApiError(405, defaultMessage(405));
      const body = await readBody(req);
      let review: unknown;
      try {
        review = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw badRequest(`the object provided is unrecognized: ${(err as Error).message}`);
      }
      reply.send(201, JSON_TYPE, JSON.stringify(this.review(rt, asRecord(review), user, target.namespace)));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, defaultMessage(405));
    if (isTrue(params, 'watch')) throw new ApiError(405, 'watch is not supported by the simulator');

    if (target.name === undefined) {
      await this.list(rt, target, params, reply);
      return;
    }
    const entry = this.options.store.get(rt, target.namespace ?? '', target.name);
    if (target.subresource === 'log' && rt.group === '' && rt.plural === 'pods') {
      if (!entry) throw notFound(rt.plural, rt.group, target.name);
      await this.podLog(entry.object, params, reply);
      return;
    }
    if (target.subresource !== undefined && target.subresource !== 'status') throw unknownResource();
    if (!entry) throw notFound(rt.plural, rt.group, target.name);
    reply.send(200, JSON_TYPE, entryJson(entry));
  }

  private discovery(target: ApiTarget, reply: Reply): void {
    const store = this.options.store;
    const served = store.registry.all().filter((rt) => store.isServed(rt));
    const send = (doc: unknown): void => reply.send(200, JSON_TYPE, JSON.stringify(doc));
    const groupDoc = (name: string): Record<string, unknown> | undefined => {
      const versions: string[] = [];
      for (const rt of served) if (rt.group === name) for (const v of rt.versions) if (!versions.includes(v)) versions.push(v);
      if (versions.length === 0) return undefined;
      const gvs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: gvs, preferredVersion: gvs[0] };
    };
    switch (target.discovery) {
      case 'versions':
        send({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.address }] });
        return;
      case 'groups': {
        const names = [...new Set(served.filter((rt) => rt.group !== '').map((rt) => rt.group))].sort();
        send({ kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((n) => groupDoc(n)) });
        return;
      }
      case 'group': {
        const doc = groupDoc(target.group);
        if (!doc) throw unknownResource();
        send({ kind: 'APIGroup', apiVersion: 'v1', ...doc });
        return;
      }
      default: {
        const types = served.filter((rt) => rt.group === target.group && rt.versions.includes(target.version));
        if (types.length === 0) throw unknownResource();
        const resources: Record<string, unknown>[] = [];
        for (const rt of types) {
          const r: Record<string, unknown> = { name: rt.plural, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: rt.verbs };
          if (rt.shortNames.length > 0) r['shortNames'] = rt.shortNames;
          resources.push(r);
          if (rt.group === '' && rt.plural === 'pods') resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
        }
        send({
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: target.group === '' ? target.version : `${target.group}/${target.version}`,
          resources,
        });
      }
    }
  }

  private async list(rt: ResourceType, target: ApiTarget, params: URLSearchParams, reply: Reply): Promise<void> {
    const store = this.options.store;
    let labels: LabelRequirement[];
    let fields: ((o: KubeObject) => boolean) | undefined;
    try {
      labels = parseLabelSelector(params.get('labelSelector') ?? '');
      fields = compileFieldSelector(rt.group, rt.plural, parseFieldSelector(params.get('fieldSelector') ?? ''));
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
    const limit = parseIntParam(params, 'limit', 0) ?? 0;
    const cont = params.get('continue');
    const token = cont ? decodeContinue(cont, rt.namespaced) : undefined;
    const entries = store.list(rt, target.namespace);
    const start = token ? indexAfter(entries, token.namespace, token.name) : 0;
    const hasSelector = labels.length > 0 || fields !== undefined;
    const matches = (e: Entry): boolean => {
      if (labels.length > 0 && !matchesLabels(labels, asRecord(asRecord(e.object['metadata'])['labels']))) return false;
      return fields === undefined || fields(e.object);
    };
    const page: Buffer[] = [];
    let last: Entry | undefined;
    let lastIndex = entries.length - 1;
    let hasMore = false;
    for (let i = start; i < entries.length; i++) {
      const e = entries[i] as Entry;
      if (hasSelector && !matches(e)) continue;
      if (limit > 0 && page.length === limit) {
        hasMore = true;
        break;
      }
      page.push(entryJson(e));
      last = e;
      lastIndex = i;
    }
    const rv = token?.rv ?? store.resourceVersion;
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (hasMore && last) {
      metadata['continue'] = encodeContinue(rv, last.namespace, last.name, rt.namespaced);
      if (!hasSelector) metadata['remainingItemCount'] = entries.length - lastIndex - 1;
    }
    const apiVersion = rt.group === '' ? target.version : `${rt.group}/${target.version}`;
    const header = Buffer.from(`${JSON.stringify({ apiVersion, kind: `${rt.kind}List`, metadata }).slice(0, -1)},"items":[`);
    const footer = Buffer.from(']}');
    let length = header.length + footer.length + Math.max(0, page.length - 1);
    for (const b of page) length += b.length;
    if (length <= LIST_BATCH_BYTES) {
      const parts: Buffer[] = [header];
      page.forEach((b, i) => {
        if (i > 0) parts.push(COMMA);
        parts.push(b);
      });
      parts.push(footer);
      reply.send(200, JSON_TYPE, Buffer.concat(parts, length));
      return;
    }
    await reply.stream(200, JSON_TYPE, length, async (write) => {
      if (!(await write(header))) return;
      let batch: Buffer[] = [];
      let batchBytes = 0;
      for (let i = 0; i < page.length; i++) {
        if (i > 0) {
          batch.push(COMMA);
          batchBytes++;
        }
        const b = page[i] as Buffer;
        batch.push(b);
        batchBytes += b.length;
        if (batchBytes >= LIST_BATCH_BYTES) {
          if (!(await write(Buffer.concat(batch, batchBytes)))) return;
          batch = [];
          batchBytes = 0;
        }
      }
      batch.push(footer);
      await write(Buffer.concat(batch));
    });
  }

  private async podLog(pod: KubeObject, params: URLSearchParams, reply: Reply): Promise<void> {
    const meta = asRecord(pod['metadata']);
    const podName = String(meta['name']);
    const namespace = String(meta['namespace'] ?? 'default');
    const spec = asRecord(pod['spec']);
    const names = (list: unknown): string[] =>
      Array.isArray(list) ? list.map((c) => asRecord(c)['name']).filter((n): n is string => typeof n === 'string') : [];
    const containers = names(spec['containers']);
    const initContainers = names(spec['initContainers']);
    const ephemeral = names(spec['ephemeralContainers']);
    let container = params.get('container') ?? '';
    if (container === '') {
      if (containers.length === 1) container = containers[0] as string;
      else if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
      else {
        let msg = `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`;
        if (initContainers.length > 0) msg += ` or one of the init containers: [${initContainers.join(' ')}]`;
        throw badRequest(msg);
      }
    } else if (!containers.includes(container) && !initContainers.includes(container) && !ephemeral.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${podName}`);
    }
    const previous = isTrue(params, 'previous');
    const tailLines = parseIntParam(params, 'tailLines', 0);
    const limitBytes = parseIntParam(params, 'limitBytes', 1);
    const sinceSeconds = parseIntParam(params, 'sinceSeconds', 1);
    const sinceTime = params.get('sinceTime');
    if (sinceSeconds !== undefined && sinceTime) throw new ApiError(422, 'at most one of `sinceTime` or `sinceSeconds` may be specified');
    let sinceMs: number | undefined;
    if (sinceSeconds !== undefined) sinceMs = this.options.now() - sinceSeconds * 1000;
    else if (sinceTime) {
      sinceMs = Date.parse(sinceTime);
      if (Number.isNaN(sinceMs)) throw badRequest(`invalid sinceTime ${JSON.stringify(sinceTime)}`);
    }
    const logsDir = this.options.logsDir;
    const file = logsDir
      ? await firstExisting(logFileCandidates(logsDir, namespace, podName, container, container === containers[0], previous))
      : undefined;
    if (!file) {
      if (previous) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
      reply.send(200, TEXT_TYPE, '');
      return;
    }
    await reply.stream(200, TEXT_TYPE, undefined, (write) =>
      streamLogFile(file, { sinceMs, tailLines, limitBytes, timestamps: isTrue(params, 'timestamps') }, write),
    );
  }

  private review(rt: ResourceType, body: Record<string, unknown>, requester: UserInfo, pathNamespace: string | undefined): KubeObject {
    const spec = { ...asRecord(body['spec']) };
    const resourceAttributes = spec['resourceAttributes'] === undefined ? undefined : { ...asRecord(spec['resourceAttributes']) };
    const nonResource = spec['nonResourceAttributes'] === undefined ? undefined : asRecord(spec['nonResourceAttributes']);
    if (!resourceAttributes && !nonResource) {
      throw new ApiError(422, `${rt.kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`);
    }
    let user: UserInfo;
    if (rt.kind === 'SelfSubjectAccessReview') {
      user = requester;
    } else {
      const name = typeof spec['user'] === 'string' ? spec['user'] : '';
      const groups = Array.isArray(spec['groups']) ? spec['groups'].filter((g): g is string => typeof g === 'string') : [];
      if (name === '' && groups.length === 0) {
        throw new ApiError(422, `${rt.kind}.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified`);
      }
      user = userInfo(name, groups);
    }
    if (rt.kind === 'LocalSubjectAccessReview' && resourceAttributes) {
      if (!resourceAttributes['namespace']) resourceAttributes['namespace'] = pathNamespace;
      if (resourceAttributes['namespace'] !== pathNamespace) {
        throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${pathNamespace ?? ''}`);
      }
      spec['resourceAttributes'] = resourceAttributes;
    }
    let status: { allowed: boolean; reason?: string };
    if (user.groups.includes('system:masters')) {
      status = { allowed: true };
    } else {
      const attrs: AuthorizationAttributes = resourceAttributes
        ? {
            user,
            verb: String(resourceAttributes['verb'] ?? ''),
            resource: String(resourceAttributes['resource'] ?? ''),
            subresource: String(resourceAttributes['subresource'] ?? ''),
            group: String(resourceAttributes['group'] ?? ''),
            namespace: String(resourceAttributes['namespace'] ?? ''),
            name: String(resourceAttributes['name'] ?? ''),
          }
        : { user, verb: String(nonResource?.['verb'] ?? ''), path: String(nonResource?.['path'] ?? '') };
      const decision = this.options.authorizer.authorize(attrs);
      status = decision.reason === '' ? { allowed: decision.allowed } : { allowed: decision.allowed, reason: decision.reason };
    }
    const metadata: Record<string, unknown> = { ...asRecord(body['metadata']), creationTimestamp: null };
    if (pathNamespace !== undefined) metadata['namespace'] = pathNamespace;
    return { kind: rt.kind, apiVersion: `authorization.k8s.io/${rt.versions[0] ?? 'v1'}`, metadata, spec, status };
  }
}

const COMMA = Buffer.from(',');

function forbiddenDetails(target: ApiTarget): Record<string, unknown> | undefined {
  if (target.plural === undefined) return undefined;
  const details: Record<string, unknown> = {};
  if (target.name) details['name'] = target.name;
  if (target.group) details['group'] = target.group;
  details['kind'] = target.plural;
  return details;
}

/** What /version answers: a recent Kubernetes release. */
export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '31',
    gitVersion: 'v1.31.4',
    gitCommit: 'a78aa47129b8539636eb86a9d00e31b2720fe06b',
    gitTreeState: 'clean',
    buildDate: '2024-12-10T11:36:22Z',
    goVersion: 'go1.22.9',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
