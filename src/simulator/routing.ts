/**
 * From a request path to what answers it, with kube-apiserver's routing (Kubernetes v1.32.0
 * staging/src/k8s.io/apiserver/pkg/server/handler.go director, pkg/endpoints/request/requestinfo.go):
 *
 * - /api, /api/v1, /apis/{group} and /apis/{group}/{version} of built-in groups are go-restful web
 *   services: an unknown resource under them is a JSON Status 404 "the server could not find the
 *   requested resource".
 * - Every other path (a custom resource group without its CRD, a removed group such as
 *   extensions/v1beta1, an unknown top-level path) falls through to the NotFound handler at the end
 *   of the delegation chain (pkg/util/notfoundhandler): `404 page not found` as text/plain.
 */
import type { IncomingMessage } from 'node:http';
import { review, decodeReview, type ReviewContext } from './access-reviews.js';
import { isRemovedVersion } from './conversion.js';
import { discoveryDocument, versionInfo, type DiscoveryKind } from './discovery.js';
import type { ResourceType } from './kinds.js';
import { isTrue, listObjects, type ListContext } from './lists.js';
import { groupVersionDocument, hashOf, openApiRoot } from './openapi.js';
import { podLog, type PodLogContext } from './pod-logs.js';
import type { UserInfo } from './rbac.js';
import { JSON_TYPE, readBody, TEXT_TYPE, wantsTable, type Reply } from './reply.js';
import { ApiError, methodNotSupported, notFound, unknownResource } from './status.js';
import { entryJson, type ObjectStore } from './store.js';
import { tableFor, type TableContext } from './tables.js';
import { watchObjects, type WatchContext } from './watch.js';
import { applyPatch, decodeBody, hasStatusSubresource, sendObject, type Writer } from './writes.js';

/** What a request addresses, parsed from the REST path. */
export interface ApiTarget {
  kind: 'resource' | 'discovery' | 'version' | 'openapi' | 'health' | 'unknown';
  group: string;
  version: string;
  plural?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  discovery?: DiscoveryKind;
  /** /openapi/v3/<rest> */
  openapiPath?: string;
}

const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);

export function parseApiPath(pathname: string): ApiTarget {
  const unknown: ApiTarget = { kind: 'unknown', group: '', version: '' };
  if (HEALTH_PATHS.has(pathname)) return { kind: 'health', group: '', version: '' };
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version', group: '', version: '' };
  if (pathname === '/openapi/v3' || pathname.startsWith('/openapi/v3/')) return { kind: 'openapi', group: '', version: '', openapiPath: pathname.slice('/openapi/v3'.length).replace(/^\//, '') };
  let segments: string[];
  try {
    segments = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return unknown;
  }
  if (segments[0] !== 'api' && segments[0] !== 'apis') return unknown;
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { kind: 'discovery', group: '', version: '', discovery: 'versions' };
    group = '';
    version = segments[1] as string;
    rest = segments.slice(2);
  } else {
    if (segments.length === 1) return { kind: 'discovery', group: '', version: '', discovery: 'groups' };
    group = segments[1] as string;
    if (segments.length === 2) return { kind: 'discovery', group, version: '', discovery: 'group' };
    version = segments[2] as string;
    rest = segments.slice(3);
  }
  if (rest.length === 0) return { kind: 'discovery', group, version, discovery: 'resources' };
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length > 5) return { ...unknown, group, version };
    return { kind: 'resource', group, version, namespace: rest[1], plural: rest[2], name: rest[3], subresource: rest[4] };
  }
  if (rest.length > 3) return { ...unknown, group, version };
  return { kind: 'resource', group, version, plural: rest[0], name: rest[1], subresource: rest[2] };
}

export function verbFor(method: string, target: ApiTarget, isWatch: boolean): string {
  if (target.kind !== 'resource') return method.toLowerCase();
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

export interface RouterOptions {
  store: ObjectStore;
  reviews: ReviewContext;
  lists: Omit<ListContext, 'table'>;
  watches: Omit<WatchContext, 'table' | 'fault'>;
  logs: PodLogContext;
  writer: Writer;
  now: () => number;
  serverAddress: () => string;
}

export interface RequestInfo {
  req: IncomingMessage;
  method: string;
  params: URLSearchParams;
  target: ApiTarget;
  user: UserInfo;
  reply: Reply;
  watchFault: 410 | 'stall' | undefined;
}

/** Whether built-in groups' web services claim this group (kube-apiserver's own groups). */
function isBuiltinGroup(store: ObjectStore, group: string): boolean {
  return group === '' || store.registry.all().some((rt) => rt.isBuiltin && rt.group === group);
}

export class Router {
  constructor(private readonly o: RouterOptions) {}

  private served(): ResourceType[] {
    const store = this.o.store;
    return store.registry.all().filter((rt) => store.isServed(rt));
  }

  /** The 404 a path gets when nothing answers it: JSON under a built-in group's web service, text elsewhere. */
  notFoundFor(target: ApiTarget): ApiError | 'text' {
    if (target.kind === 'unknown' && target.group === '' && target.version === '') return 'text';
    return isBuiltinGroup(this.o.store, target.group) ? unknownResource() : 'text';
  }

  /** The served type a resource request names (undefined: 404 of the path). */
  servedType(target: ApiTarget): ResourceType | undefined {
    if (target.plural === undefined) return undefined;
    const rt = this.o.store.registry.byGroupPlural(target.group, target.plural);
    if (!rt || !rt.versions.includes(target.version) || !this.o.store.isServed(rt) || isRemovedVersion(rt, target.version)) return undefined;
    if (target.namespace !== undefined && !rt.namespaced) return undefined;
    if (target.namespace === undefined && rt.namespaced && target.name !== undefined) return undefined;
    return rt;
  }

  private tableContext(req: IncomingMessage, params: URLSearchParams): TableContext | undefined {
    if (!wantsTable(req.headers.accept)) return undefined;
    const include = params.get('includeObject');
    return {
      now: this.o.now,
      includeObject: include === 'None' || include === 'Object' ? include : 'Metadata',
      crdOf: (rt) => this.o.store.crdOf(rt),
    };
  }

  async dispatch(info: RequestInfo): Promise<void> {
    const { target, reply, req, params, method } = info;
    const send = (doc: unknown): void => reply.send(200, JSON_TYPE, JSON.stringify(doc));
    switch (target.kind) {
      case 'health':
        reply.send(200, TEXT_TYPE, 'ok');
        return;
      case 'version':
        send(versionInfo());
        return;
      case 'openapi':
        this.openapi(target.openapiPath ?? '', reply);
        return;
      case 'discovery': {
        const doc = discoveryDocument(this.o.store, this.subresources(), target.discovery as DiscoveryKind, target.group, target.version, this.o.serverAddress());
        if (!doc) throw this.notFoundOrText(target);
        send(doc);
        return;
      }
      case 'unknown':
        throw this.notFoundOrText(target);
      default:
        break;
    }
    const rt = this.servedType(target);
    if (!rt) throw this.notFoundOrText(target);
    const store = this.o.store;
    const table = this.tableContext(req, params);
    const dryRun = params.get('dryRun') === 'All';

    if (rt.verbs.length === 1 && rt.verbs[0] === 'create') {
      // Reviews have only a create route: go-restful answers anything else 405 (NewGenericServerResponse's text).
      if (method !== 'POST' || target.name !== undefined) throw new ApiError(405, 'the server does not allow this method on the requested resource', {});
      const body = decodeReview(req.headers['content-type'], await readBody(req), rt.kind);
      reply.send(201, JSON_TYPE, JSON.stringify(review(this.o.reviews, rt, body, info.user, target.namespace)));
      return;
    }
    const sub = target.subresource;
    if (sub !== undefined && !this.hasSubresource(rt, target.version, sub)) throw this.notFoundOrText(target);

    if (target.name === undefined) {
      if (method === 'GET' || method === 'HEAD') {
        if (isTrue(params, 'watch')) {
          await watchObjects({ ...this.o.watches, table, fault: info.watchFault }, rt, target.version, target.namespace, undefined, params, reply);
          return;
        }
        await listObjects({ ...this.o.lists, table }, rt, target.version, target.namespace, params, reply);
        return;
      }
      if (method === 'POST') {
        if (rt.namespaced && target.namespace === undefined) throw methodNotSupported(rt.plural, rt.group, 'create');
        const created = this.o.writer.create(rt, target.version, target.namespace, decodeBody(req.headers['content-type'], await readBody(req)), dryRun);
        sendObject(reply, 201, created);
        return;
      }
      throw methodNotSupported(rt.plural, rt.group, method === 'DELETE' ? 'deletecollection' : verbFor(method, target, false));
    }

    const name = target.name;
    if (sub === 'log') {
      if (method !== 'GET') throw methodNotSupported('pods/log', '', verbFor(method, target, false));
      const entry = store.get(rt, target.namespace ?? '', name);
      if (!entry) throw notFound(rt.plural, rt.group, name);
      await podLog(this.o.logs, entry.object, params, reply);
      return;
    }
    if (sub === 'scale') {
      if (method === 'GET') return sendObject(reply, 200, this.o.writer.scale(rt, target.version, target.namespace, name));
      const current = this.o.writer.scale(rt, target.version, target.namespace, name);
      const body = await readBody(req);
      const next = method === 'PUT' ? decodeBody(req.headers['content-type'], body) : method === 'PATCH' ? this.patchScale(rt, req.headers['content-type'], body, current) : undefined;
      if (next === undefined) throw methodNotSupported(`${rt.plural}/scale`, rt.group, verbFor(method, target, false));
      sendObject(reply, 200, this.o.writer.writeScale(rt, target.version, target.namespace, name, next, dryRun));
      return;
    }
    switch (method) {
      case 'GET':
      case 'HEAD': {
        if (isTrue(params, 'watch')) {
          await watchObjects({ ...this.o.watches, table, fault: info.watchFault }, rt, target.version, target.namespace, name, params, reply);
          return;
        }
        const entry = store.get(rt, target.namespace ?? '', name);
        if (!entry) throw notFound(rt.plural, rt.group, name);
        if (table) send(tableFor(table, rt, target.version, [entry.object], { resourceVersion: String((entry.object['metadata'] as Record<string, unknown>)['resourceVersion'] ?? '') }));
        else reply.send(200, JSON_TYPE, entryJson(entry));
        return;
      }
      case 'PUT':
        sendObject(reply, 200, this.o.writer.update(rt, target.version, target.namespace, name, decodeBody(req.headers['content-type'], await readBody(req)), sub, dryRun));
        return;
      case 'PATCH':
        sendObject(reply, 200, this.o.writer.patch(rt, target.version, target.namespace, name, req.headers['content-type'], await readBody(req), sub, dryRun));
        return;
      case 'DELETE': {
        if (sub !== undefined) throw methodNotSupported(`${rt.plural}/${sub}`, rt.group, 'delete');
        sendObject(reply, 200, this.o.writer.delete(rt, target.namespace, name, await readBody(req), req.headers['content-type'], dryRun));
        return;
      }
      default:
        throw methodNotSupported(rt.plural, rt.group, method.toLowerCase());
    }
  }

  private patchScale(rt: ResourceType, contentType: string | undefined, body: Buffer, current: Record<string, unknown>): unknown {
    // The Scale kind is a built-in (autoscaling/v1): strategic merge applies to it too.
    return applyPatch({ ...rt, isBuiltin: true }, contentType, body, structuredClone(current));
  }

  private hasSubresource(rt: ResourceType, version: string, sub: string): boolean {
    if (sub === 'log') return rt.group === '' && rt.plural === 'pods';
    if (sub === 'status') return hasStatusSubresource(this.o.store, rt, version);
    if (sub === 'scale') return this.subresources().hasScale(rt, version);
    return false;
  }

  private subresources() {
    const store = this.o.store;
    const writer = this.o.writer;
    return {
      hasStatus: (rt: ResourceType, version: string) => hasStatusSubresource(store, rt, version),
      hasScale: (rt: ResourceType, version: string) => writer.hasScale(rt, version),
    };
  }

  private notFoundOrText(target: ApiTarget): ApiError {
    const nf = this.notFoundFor(target);
    if (nf === 'text') return new PlainNotFound();
    return nf;
  }

  private openapi(rest: string, reply: Reply): void {
    const served = this.served();
    if (rest === '') {
      reply.send(200, JSON_TYPE, JSON.stringify(openApiRoot(this.o.store, served)));
      return;
    }
    const m = /^(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(rest);
    const doc = m ? groupVersionDocument(this.o.store, served, m[2] ?? '', m[1] ?? m[3] ?? '') : undefined;
    if (!doc) throw new PlainNotFound();
    reply.send(200, JSON_TYPE, JSON.stringify(doc), { etag: `"${hashOf(doc)}"` });
  }
}

/** http.NotFound: `404 page not found` as text/plain (the end of kube-apiserver's delegation chain). */
export class PlainNotFound extends ApiError {
  constructor() {
    super(404, '404 page not found');
  }
}
