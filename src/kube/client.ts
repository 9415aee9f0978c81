/**
 * The Kubernetes client: credentials, and the one place every API request passes through. Here each
 * request gets its AbortSignal (the caller's deadline plus a per-request timeout, attached with a
 * client-node middleware because the library has no per-call timeout), is counted, honours 429
 * Retry-After within the deadline, and turns any failure into a KubeError.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  type ObservableMiddleware,
  Watch,
  Observable,
  type RequestContext,
  type ResponseContext,
  VersionApi,
} from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { KubeError } from './errors.js';
import { unknownNameMessage } from '../did-you-mean.js';
import { errorCode, TLS_ERROR_CODE } from '../net-errors.js';
import { turnIfDue } from '../slices.js';

export interface RequestRecord {
  verb: string;
  resource: string;
  code: string;
  durationMs: number;
}

/** Receives every request the client makes (metrics and per-cycle counts). */
export type RequestObserver = (record: RequestRecord) => void;

export interface CredentialsOptions {
  /** --kubeconfig */
  kubeconfigPath?: string;
  /** --context: this context of the kubeconfig instead of its current one. */
  context?: string;
  /** An already built kubeconfig (the simulator's). */
  kubeconfig?: Parameters<KubeConfig['loadFromOptions']>[0];
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Credentials and where they came from. */
export interface Credentials {
  kc: KubeConfig;
  /** `--kubeconfig FILE`, `KUBECONFIG=...`, `~/.kube/config`, `the in-cluster service account`. */
  source: string;
  /** The kubeconfig context in use; absent in the cluster. */
  context?: string;
}

/**
 * Credentials in the order an operator expects: an explicit kubeconfig (flag, then the simulator),
 * the in-cluster service account (unless --context names a kubeconfig context), KUBECONFIG,
 * ~/.kube/config. No silent localhost fallback.
 */
export function loadCredentials(options: CredentialsOptions): Credentials {
  const kc = new KubeConfig();
  let source: string;
  try {
    if (options.kubeconfig) {
      kc.loadFromOptions(options.kubeconfig);
      source = 'the simulated cluster';
    } else if (options.kubeconfigPath) {
      if (!existsSync(options.kubeconfigPath)) throw new CredentialsError(`${options.kubeconfigPath}: kubeconfig not found`);
      kc.loadFromFile(options.kubeconfigPath);
      source = options.kubeconfigPath;
    } else if (options.context === undefined && process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
      kc.loadFromCluster();
      return { kc, source: 'the in-cluster service account' };
    } else if (process.env.KUBECONFIG) {
      const files = process.env.KUBECONFIG.split(path.delimiter).filter(Boolean);
      const missing = files.filter((file) => !existsSync(file));
      if (missing.length === files.length) throw new CredentialsError(`KUBECONFIG=${process.env.KUBECONFIG}: no such file`);
      kc.loadFromDefault();
      source = `KUBECONFIG=${process.env.KUBECONFIG}`;
    } else if (existsSync(path.join(os.homedir(), '.kube', 'config'))) {
      kc.loadFromDefault();
      source = '~/.kube/config';
    } else {
      throw new CredentialsError(
        'no Kubernetes credentials: not running in a cluster, no --kubeconfig, KUBECONFIG unset and ~/.kube/config absent (use --simulate DIR to run against a simulated cluster)',
      );
    }
  } catch (error) {
    if (error instanceof CredentialsError) throw error;
    const from = options.kubeconfigPath ?? process.env.KUBECONFIG ?? '~/.kube/config';
    throw new CredentialsError(`${from}: cannot load kubeconfig: ${(error as Error).message}`);
  }
  if (options.context !== undefined) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(options.context)) {
      throw new CredentialsError(unknownNameMessage(`--context ${options.context}: no such context in ${source}`, options.context, names, 'contexts'));
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new CredentialsError(`${source}: kubeconfig has no current cluster (current context "${kc.getCurrentContext()}")`);
  }
  return { kc: allowPlainHttp(kc), source, context: kc.getCurrentContext() };
}

/** The credentials' kubeconfig (see loadCredentials). */
export function loadKubeConfig(options: CredentialsOptions): KubeConfig {
  return loadCredentials(options).kc;
}

/**
 * A server URL with plain `http://` (`kubectl proxy`, which adds the credentials itself) works
 * with kubectl as it is. @kubernetes/client-node 2.0.1 refuses one unless the cluster also says
 * `insecure-skip-tls-verify` ("HTTP protocol is not allowed when skipTLSVerify is not set or
 * false", dist/config.js createDispatcherOptions and createAgent): for such a cluster, set it, which
 * changes nothing on a connection without TLS.
 */
function allowPlainHttp(kc: KubeConfig): KubeConfig {
  if (!kc.clusters.some((c) => c.server.startsWith('http:') && !c.skipTLSVerify)) return kc;
  const plain = new KubeConfig();
  plain.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return plain;
}

/**
 * Who rollout-doctor is to the API server and where it talks to, in words a remediation can use:
 * never a credential, only where it comes from.
 */
export interface ApiIdentity {
  /** `scheme://host:port` of the API server. */
  server: string;
  /** The kubeconfig context in use; absent in a cluster (the service account has none). */
  context?: string;
  /** The kubeconfig file given with --kubeconfig (kubectl needs it too to reach the same cluster). */
  kubeconfig?: string;
  /** Where the credentials come from: `user "alice" (exec plugin aws) in ~/.kube/config`. */
  credentials: string;
  isInCluster: boolean;
}

/** How the kubeconfig's current user authenticates, in words (never the secret itself). */
function authMethod(kc: KubeConfig): string {
  const user = kc.getCurrentUser();
  if (!user) return 'no user';
  if (user.exec?.command) return `exec plugin ${path.basename(user.exec.command)}`;
  if (user.authProvider?.name) return `auth provider ${user.authProvider.name}`;
  if (user.token) return 'bearer token';
  if (user.certFile || user.certData) return 'client certificate';
  if (user.username) return 'basic auth';
  return 'no credentials';
}

/**
 * The identity of a loaded kubeconfig. In a cluster (client-node's loadFromCluster names its user
 * inClusterUser and reads a token file) the credentials are the pod's service account token.
 */
export function describeIdentity(kc: KubeConfig, options: CredentialsOptions): ApiIdentity {
  const user = kc.getCurrentUser();
  const server = describeServer(kc);
  const tokenFile = user?.authProvider?.name === 'tokenFile' ? (user.authProvider.config as { tokenFile?: string } | undefined)?.tokenFile : undefined;
  if (user?.name === 'inClusterUser' && tokenFile) {
    return { server, credentials: `the pod's service account token (${tokenFile})`, isInCluster: true };
  }
  const context = kc.getCurrentContext();
  const file = options.kubeconfig ? '' : ` in ${options.kubeconfigPath ?? (process.env.KUBECONFIG ? `KUBECONFIG=${process.env.KUBECONFIG}` : '~/.kube/config')}`;
  const identity: ApiIdentity = { server, context, credentials: `user "${user?.name ?? ''}" (${authMethod(kc)})${file}`, isInCluster: false };
  if (options.kubeconfigPath) identity.kubeconfig = options.kubeconfigPath;
  return identity;
}

export interface RequestMeta {
  verb: string;
  /** REST resource with group for custom kinds: `pods`, `pods/log`, `rollouts.argoproj.io`. */
  resource: string;
  namespace?: string;
  /** Cap on the response body (pod logs): the read stops there whatever the server sends. */
  maxBodyBytes?: number;
}

export interface RequestScope {
  /** The caller's deadline (cycle or check); aborting it aborts the request. */
  signal: AbortSignal;
  /** Called once per HTTP request made in this scope (retries included). */
  onRequest?: RequestObserver;
}

export interface KubeClientOptions {
  requestTimeoutMs: number;
  /** Every request, for rollout_doctor_kube_requests_total. */
  onRequest?: RequestObserver;
  /** Retries of a 429 within the deadline. */
  maxRetries?: number;
  /** Who we are to the API server (describeIdentity); by default only the server is known. */
  identity?: ApiIdentity;
}

/** Where the daemon talks to; never includes credentials. */
export function describeServer(kc: KubeConfig): string {
  const server = kc.getCurrentCluster()?.server ?? '';
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '<unparsable server URL>';
  }
}

export class KubeClient {
  /**
   * client-node 2.0 builds a new undici Agent for every request whose kubeconfig has TLS options
   * (a CA or client certificates: in-cluster config and the simulator's always have a CA), so every request would open
   * a new connection and leave the agent's sockets behind. The first request's dispatcher is kept
   * and reused for all of them (one cluster, one user per client).
   */
  private dispatcher?: Dispatcher;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly custom: CustomObjectsApi;
  readonly authorization: AuthorizationV1Api;
  readonly version: VersionApi;
  readonly server: string;
  readonly identity: ApiIdentity;
  private readonly watcher: Watch;

  constructor(
    kc: KubeConfig,
    private readonly options: KubeClientOptions,
  ) {
    // The watch connects through the same kept dispatcher as every other request (see above).
    const shared = Object.create(kc) as KubeConfig;
    shared.applySecurityAuthentication = async (context) => {
      await kc.applySecurityAuthentication(context);
      const perRequest = context.getDispatcher();
      if (perRequest) {
        this.dispatcher ??= perRequest;
        context.setDispatcher(this.dispatcher);
      }
    };
    this.watcher = new Watch(shared);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.authorization = kc.makeApiClient(AuthorizationV1Api);
    this.version = kc.makeApiClient(VersionApi);
    this.server = describeServer(kc);
    this.identity = options.identity ?? { server: this.server, credentials: 'the kubeconfig rollout-doctor was given', isInCluster: false };
  }

  /** A reloaded config's `timeouts.requestMs`, for the requests that start from now on. */
  setRequestTimeout(ms: number): void {
    this.options.requestTimeoutMs = ms;
  }

  /**
   * Runs one API call with its deadline, counting and error mapping. `call` receives the per-request
   * options to pass as the library call's last argument.
   */
  async request<T>(meta: RequestMeta, scope: RequestScope, call: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
    return this.send(meta, scope, call, undefined);
  }

  /**
   * Like request, but answers the body as the API server sent it, parsed once with JSON.parse: the
   * plain JSON objects (string timestamps) the checks read for every kind. client-node's typed
   * deserialization of a list walks every field of every item into model objects; at 1,000 rollouts
   * (5,000 pods) that was ~330 ms of CPU and tens of MB of garbage per cycle, for objects the checks
   * read as plain data anyway. The library still builds, authenticates and sends the request.
   */
  async requestJson(meta: RequestMeta, scope: RequestScope, call: (options: ConfigurationOptions) => Promise<unknown>): Promise<unknown> {
    const capture: { body?: unknown } = {};
    await this.send(meta, scope, call, capture);
    return capture.body;
  }

  private async send<T>(meta: RequestMeta, scope: RequestScope, call: (options: ConfigurationOptions) => Promise<T>, capture: { body?: unknown } | undefined): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      // client-node builds and serializes the request synchronously: in slices, with the caller's
      // work (no `await` without a turn to wait for: callers starting requests together would all
      // pass here first, then build theirs in one go).
      const turn = turnIfDue();
      if (turn) await turn;
      const started = performance.now();
      const timeout = new AbortController();
      const onParentAbort = () => timeout.abort(scope.signal.reason);
      if (scope.signal.aborted) onParentAbort();
      else scope.signal.addEventListener('abort', onParentAbort, { once: true });
      // The request timeout bounds each wait for the server (the answer's headers, then every chunk of
      // its body), not the whole transfer: a list answered whole from the watch cache (50,000 pods,
      // tens of MB) takes as long as its size needs while it keeps arriving; the caller's deadline
      // still bounds the total.
      const requestTimeoutMs = this.options.requestTimeoutMs;
      let timer = setTimeout(() => timeout.abort(new RequestTimeout(requestTimeoutMs)), requestTimeoutMs);
      const progress = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => timeout.abort(new RequestTimeout(requestTimeoutMs)), requestTimeoutMs);
      };
      let error: KubeError | undefined;
      try {
        const result = await call(this.requestOptions(timeout.signal, progress, meta.maxBodyBytes, capture));
        this.observe(scope, meta, '200', started);
        return result;
      } catch (caught) {
        error = toKubeError(caught, meta, timeout.signal);
        this.observe(scope, meta, error.code, started);
      } finally {
        clearTimeout(timer);
        scope.signal.removeEventListener('abort', onParentAbort);
      }
      if (error.reason === 'TooManyRequests' && attempt < maxRetries && (await waitRetryAfter(error, scope.signal))) continue;
      throw error;
    }
  }

  private requestOptions(signal: AbortSignal, progress: () => void, maxBodyBytes: number | undefined, capture?: { body?: unknown }): ConfigurationOptions {
    const middleware: ObservableMiddleware = {
      pre: (context: RequestContext) => {
        context.setSignal(signal);
        const perRequest = context.getDispatcher();
        if (perRequest) {
          this.dispatcher ??= perRequest;
          context.setDispatcher(this.dispatcher);
        }
        return new Observable(Promise.resolve(context));
      },
      post(context: ResponseContext) {
        progress();
        readWithProgress(context, progress, maxBodyBytes);
        const answer = () => (capture && context.httpStatusCode >= 200 && context.httpStatusCode < 300 ? takeJson(context, capture) : Promise.resolve(context));
        // Answers that arrive together (a check's 32 access reviews) are each read, parsed and
        // evaluated in the same turn of the event loop: each waits for its slice (src/slices.ts).
        const turn = turnIfDue();
        return new Observable(turn ? turn.then(answer) : answer());
      },
    };
    return { middleware: [middleware], middlewareMergeStrategy: 'append' };
  }

  /**
   * Watches `path` with client-node's Watch: `onEvent` for each event line, `onDone` once when the
   * watch ends (undefined: the server ended it, as it does at timeoutSeconds; else why it failed).
   * Resolves once the answer's headers arrived, or the request failed, with a way to stop it.
   *
   * `silenceMs` is the library's inactivity timeout (before the headers and between chunks; its
   * default of 30 s would cut every quiet watch, since API servers send a bookmark only about every
   * minute: kube-apiserver v1.32 staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go
   * nextBookmarkTime). client-node 2.0.1 keeps it in a private field with no setter.
   *
   * Counted (`observer`, rollout_doctor_kube_requests_total) when the answer arrives, by its status,
   * as client-go counts a watch in rest_client_requests_total (client-go rest/request.go,
   * `(*Request).Watch`: `updateURLMetrics(ctx, r, resp, err)` right after `client.Do(req)`, before
   * the stream is read). A watch that opened and then breaks (silent past `silenceMs`, cut off,
   * connection lost) is counted once more, with that failure's code, so the API errors stay
   * visible; one the server ends at its timeoutSeconds is not counted again. Counting at the end instead made each kind's
   * `code="200"` series appear only when its first watch ended, 5-10 minutes after start.
   */
  async watch(
    meta: RequestMeta,
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    silenceMs: number,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: KubeError | undefined) => void,
    observer?: RequestObserver,
  ): Promise<{ stop(): void }> {
    (this.watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = silenceMs;
    const started = performance.now();
    let isStopped = false;
    let isEnded = false;
    let isCounted = false;
    const record = (code: string) => {
      const entry = { verb: meta.verb, resource: meta.resource, code, durationMs: performance.now() - started };
      this.options.onRequest?.(entry);
      observer?.(entry);
    };
    const done = (error: unknown) => {
      isEnded = true;
      if (isStopped || !error) {
        if (!isCounted) record('200');
        isCounted = true;
        if (!isStopped) onDone(undefined);
        return;
      }
      const kubeError = watchError(error, meta, silenceMs);
      record(kubeError.code);
      isCounted = true;
      onDone(kubeError);
    };
    const controller = await this.watcher.watch(path, query, (type, object) => onEvent(type, object), done);
    // Resolved with the stream open: the answer was 200 (a failed answer has called `done` already).
    if (!isEnded) {
      isCounted = true;
      record('200');
    }
    return {
      stop() {
        isStopped = true;
        controller.abort();
      },
    };
  }

  /** Closes the kept connections, watches too. */
  async close(): Promise<void> {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    await dispatcher?.destroy();
  }

  private observe(scope: RequestScope, meta: RequestMeta, code: string, started: number): void {
    const record = { verb: meta.verb, resource: meta.resource, code, durationMs: performance.now() - started };
    this.options.onRequest?.(record);
    scope.onRequest?.(record);
  }
}

class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** The reason a deadline aborts with, so errors say which deadline it was. */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/** Parses the body into `capture` and hands the library an empty object to deserialize instead. */
async function takeJson(context: ResponseContext, capture: { body?: unknown }): Promise<ResponseContext> {
  capture.body = JSON.parse(await context.body.text()) as unknown;
  const original = context.body;
  context.body = { ...original, text: async () => '{}' };
  return context;
}

/**
 * Replaces the body reader so that every chunk counts as progress for the request timeout and at
 * most `maxBytes` are read (the rest of the stream is cancelled).
 */
function readWithProgress(context: ResponseContext, progress: () => void, maxBytes = Number.POSITIVE_INFINITY): void {
  const original = context.body;
  context.body = {
    ...original,
    async text() {
      const stream = original.stream() as ReadableStream<Uint8Array> | undefined;
      if (!stream) return original.text();
      const reader = stream.getReader();
      const chunks: Uint8Array[] = [];
      let total = 0;
      try {
        while (total < maxBytes) {
          const { done, value } = await reader.read();
          if (done) break;
          progress();
          const room = maxBytes - total;
          chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
          total += Math.min(value.byteLength, room);
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

async function waitRetryAfter(error: KubeError, signal: AbortSignal): Promise<boolean> {
  const seconds = error.retryAfterSeconds ?? 1;
  if (signal.aborted) return false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, seconds * 1000);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function statusBody(body: unknown): { reason?: string; message?: string } {
  if (typeof body === 'string') {
    try {
      return statusBody(JSON.parse(body));
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  if (body && typeof body === 'object') {
    const status = body as { reason?: unknown; message?: unknown };
    return {
      reason: typeof status.reason === 'string' ? status.reason : undefined,
      message: typeof status.message === 'string' ? status.message : undefined,
    };
  }
  return {};
}

/** The KubeError of an HTTP status and its Status body (a watch's ERROR event carries one). */
export function statusError(status: number, body: unknown, meta: RequestMeta): KubeError {
  return toKubeError(new ApiException(status, '', body, {}), meta, new AbortController().signal);
}

/** Why a watch ended: its HTTP status (client-node reads no body for it), silence, or the network. */
function watchError(error: unknown, meta: RequestMeta, silenceMs: number): KubeError {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number') return statusError(status, '', meta);
  if (error instanceof Error && error.name === 'TimeoutError') return new KubeError('Timeout', 0, meta.verb, meta.resource, `no event or bookmark for ${silenceMs} ms`, meta.namespace);
  return toKubeError(error, meta, new AbortController().signal);
}

export function toKubeError(error: unknown, meta: RequestMeta, signal: AbortSignal): KubeError {
  const make = (reason: ConstructorParameters<typeof KubeError>[0], status: number, detail: string, retryAfter?: number) =>
    new KubeError(reason, status, meta.verb, meta.resource, detail, meta.namespace, retryAfter);
  if (error instanceof KubeError) return error;
  if (error instanceof ApiException) {
    const status = error.code;
    const body = statusBody(error.body);
    const detail = [body.reason, body.message].filter(Boolean).join(': ');
    if (status === 401) return make('Unauthorized', status, detail);
    if (status === 403) return make('Forbidden', status, body.message ?? '');
    if (status === 404) return make('NotFound', status, body.message ?? '');
    if (status === 429) {
      const header = Number(error.headers?.['retry-after']);
      return make('TooManyRequests', status, detail, Number.isFinite(header) && header >= 0 ? header : undefined);
    }
    if (status === 400 || status === 422) return make('BadRequest', status, detail);
    if (status >= 500) return make('ServerError', status, detail || 'server error');
    if (status >= 200 && status < 300) return make('InvalidResponse', 0, detail || 'unexpected body');
    return make('HttpError', status, detail);
  }
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof RequestTimeout) return make('Timeout', 0, reason.message);
    if (reason instanceof DeadlineExceeded) return make('Timeout', 0, reason.message);
    return make('Aborted', 0, reason instanceof Error ? reason.message : 'cancelled');
  }
  if (error instanceof SyntaxError) return make('InvalidResponse', 0, `malformed JSON (${error.message.slice(0, 120)})`);
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code && TLS_ERROR_CODE.test(code)) return make('TLSError', 0, code);
  // undici reports a body that stops early as 'terminated' (the headers had arrived).
  if (message === 'terminated') return make('InvalidResponse', 0, `answer cut off mid-body${code ? ` (${code})` : ''}`);
  if (code) return make('Unreachable', 0, code);
  // fetch fails before any answer with a cause that has no code ("bad port", a blocked scheme).
  if (message === 'fetch failed') {
    const cause = (error as { cause?: unknown }).cause;
    return make('Unreachable', 0, cause instanceof Error ? cause.message : 'no connection');
  }
  return make('InvalidResponse', 0, message.slice(0, 200));
}
