/** Public shapes of the simulated cluster: what the CLI, tests and benchmarks drive. */

/**
 * How the simulated API answers every request for one resource: an HTTP status (401, 403, 404,
 * 429, 500, 503, ...) answered with a Kubernetes Status body, `hang` (never answers until the client
 * gives up), `stall` (200 headers, then nothing: a body or a watch that never progresses),
 * `garbage` (200 with malformed JSON) or `truncate` (200 whose body stops in the middle). For a
 * watch, 410 is what a real server sends there: an ERROR event "too old resource version".
 */
export type Fault = number | 'hang' | 'stall' | 'garbage' | 'truncate';

export interface SimulatorOptions {
  /**
   * Scenario folder: every *.yaml, *.yml, *.json under it except rollout-doctor.yaml, expected.yaml
   * and logs/ (pod logs are read from `<dir>/logs/<namespace>/<pod>[.<container>][.previous].log`).
   */
  dir?: string;
  /** Extra objects, loaded after the folder's (same name replaces). */
  objects?: unknown[];
  /** Defaults to 127.0.0.1; anything outside 127.0.0.0/8 and ::1 is refused. */
  host?: string;
  /** Defaults to 0 (an ephemeral port). */
  port?: number;
  /** Added before every answer of the API server. */
  latencyMs?: number;
  /**
   * Keyed by REST resource plural, with subresource (`pods/log`); `*` matches every resource; a
   * `VERB:` prefix limits it to one verb (`watch:pods`, `list:*`).
   */
  faults?: Record<string, Fault>;
  /** Items of every list answer in random order (what `--shuffle-lists` sets). */
  shuffleLists?: boolean;
  /** Between BOOKMARK events of a watch that allows them (default 60 s, as a real server). */
  bookmarkIntervalMs?: number;
  /** kube-apiserver --watch-cache (default true); false serves resourceVersion=0 lists from etcd, paged by limit. */
  watchCache?: boolean;
  /** Retry-After seconds sent with an injected 429 (default 1). */
  retryAfterSeconds?: number;
  /**
   * When set, the daemon's own requests (and its SelfSubjectAccessReviews) are authorized as this
   * user (e.g. system:serviceaccount:rollout-doctor:rollout-doctor) against the RBAC objects loaded.
   */
  enforceRbacSubject?: string;
  /** Fixed clock for sinceSeconds on pod logs; defaults to the scenario's scenario.yaml `now`, else the real time. */
  now?: Date;
  /** Start the FakeApp objects of the scenario (default true). */
  startApps?: boolean;
  /**
   * Start fake apps on their configured loopback host but an ephemeral port (read the real URL
   * from `apps`), so that several simulators of one scenario can run at once (parallel tests).
   */
  ephemeralAppPorts?: boolean;
  /** The request log keeps about this many most recent entries (default 10,000). */
  requestLogLimit?: number;
}

export interface RequestLogEntry {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Raw query string without `?` (absent when there is none). */
  query?: string;
  /** Plural resource with subresource, e.g. `pods`, `pods/log`, `rollouts`; `` for non-resource paths. */
  resource: string;
  group: string;
  verb: string;
  namespace?: string;
  /** HTTP status answered; 0 while unanswered (and for a hung request). */
  status: number;
  /** Response body bytes written. */
  bytes: number;
  /** Authenticated user the request was evaluated as (`system:anonymous` without a valid token). */
  user: string;
  /** Whether RBAC enforcement denied it. */
  forbidden: boolean;
  durationMs: number;
}

export interface FakeAppHandle {
  name: string;
  /** Where it listens. */
  url: string;
  /** Where the scenario said it listens (differs with ephemeralAppPorts). */
  declared: string;
}

export interface SimulatedCluster {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** Bearer token the kubeconfig carries (identifies "the daemon" to the simulator). */
  readonly token: string;
  /** PEM of the CA that signed the server's certificate (the kubeconfig's certificate-authority-data). */
  readonly caPem: string;
  /** The fixed time it runs at (options.now, else the scenario's scenario.yaml `now`); undefined: the wall clock. */
  readonly now?: Date;
  /** A kubeconfig (as the plain object KubeConfig.loadFromOptions accepts) for this server. */
  kubeconfig(): SimulatorKubeconfig;
  /** The same kubeconfig as YAML text, for writing to a file. */
  kubeconfigYaml(): string;
  setLatency(ms: number): void;
  setFault(resource: string, fault: Fault): void;
  clearFault(resource?: string): void;
  /** Add or replace an object (by apiVersion/kind/namespace/name): a write, watchers see it. */
  apply(object: unknown): void;
  /** Forget every change so far, as etcd compaction does: older continue tokens and watch resourceVersions get 410. */
  compact(): void;
  /** Remove an object; returns whether it existed. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean;
  /** All stored objects of a kind (tests inspect or mutate scenarios). */
  objects(kind: string): Record<string, unknown>[];
  readonly requests: RequestLogEntry[];
  clearRequests(): void;
  readonly apps: FakeAppHandle[];
  /** Closes the API server, the fake apps and every open connection (hung ones too). */
  close(): Promise<void>;
}

export interface SimulatorKubeconfig {
  clusters: { name: string; server: string; caData: string }[];
  users: { name: string; token: string }[];
  contexts: { name: string; cluster: string; user: string }[];
  currentContext: string;
}
