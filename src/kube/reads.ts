/**
 * Targeted reads that cannot be lists because they depend on what a check found: pod logs and
 * access reviews. They run on the calling check's deadline, are bounded per check and per cycle,
 * are counted like every other request, and are shared within a cycle (two checks reading the same
 * controller log cause one request).
 */
import type { KubeClient, RequestObserver } from './client.js';
import { KubeError } from './errors.js';

export interface PodLogRequest {
  namespace: string;
  pod: string;
  container?: string;
  previous?: boolean;
  tailLines?: number;
  /** Capped at MAX_LOG_BYTES whatever is asked. */
  limitBytes?: number;
  sinceSeconds?: number;
}

export interface ResourceAttributes {
  namespace?: string;
  verb: string;
  /** API group, '' for core. */
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
}

export interface SubjectAccessRequest extends ResourceAttributes {
  /** e.g. system:serviceaccount:argo-rollouts:argo-rollouts */
  user: string;
  groups?: string[];
}

export interface AccessReviewResult {
  allowed: boolean;
  denied: boolean;
  reason: string;
}

/** What GET /version answers (the fields rollout-doctor shows). */
export interface ServerVersion {
  gitVersion: string;
  platform?: string;
}

export interface KubeReads {
  /** A container log, bounded to MAX_LOG_BYTES. */
  podLog(request: PodLogRequest): Promise<string>;
  /** SubjectAccessReview: may `user` do this? */
  accessReview(request: SubjectAccessRequest): Promise<AccessReviewResult>;
  /** SelfSubjectAccessReview: may rollout-doctor itself do this? */
  selfAccessReview(request: ResourceAttributes): Promise<AccessReviewResult>;
  /** GET /version: the API server answers and takes our credentials (kube-api). */
  serverVersion(): Promise<ServerVersion>;
}

/** Per pod log request. */
export const MAX_LOG_BYTES = 256 * 1024;

export interface ReadBudget {
  logRequests: number;
  logBytes: number;
  accessReviews: number;
}

/** Per check and cycle; generous for the runbook's checks, tight enough to stay cheap at any size. */
export const DEFAULT_READ_BUDGET: ReadBudget = { logRequests: 40, logBytes: 4 * 1024 * 1024, accessReviews: 400 };

/** One cycle's reads: the shared memo, handing each check a view bound to its deadline and budget. */
export class CycleReads {
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: KubeClient,
    private readonly onRequest: RequestObserver,
    private readonly budget: ReadBudget = DEFAULT_READ_BUDGET,
  ) {}

  forCheck(signal: AbortSignal): KubeReads {
    const used: ReadBudget = { logRequests: 0, logBytes: 0, accessReviews: 0 };
    const scope = { signal, onRequest: this.onRequest };
    const client = this.client;
    const budget = this.budget;
    const shared = <T>(key: string, run: () => Promise<T>): Promise<T> => {
      const existing = this.memo.get(key);
      if (existing) return existing as Promise<T>;
      const promise = run();
      this.memo.set(key, promise);
      // A failure (a deadline, a hiccup) is not shared with the next check that asks.
      promise.catch(() => this.memo.delete(key));
      return promise;
    };
    const exceeded = (verb: string, resource: string, what: string) =>
      new KubeError('BudgetExceeded', 0, verb, resource, `this check already used its ${what} for this cycle`);

    return {
      podLog(request) {
        const resource = 'pods/log';
        if (used.logRequests >= budget.logRequests) return Promise.reject(exceeded('get', resource, `${budget.logRequests} log reads`));
        if (used.logBytes >= budget.logBytes) return Promise.reject(exceeded('get', resource, `${budget.logBytes} log bytes`));
        used.logRequests++;
        const limitBytes = Math.min(request.limitBytes ?? MAX_LOG_BYTES, MAX_LOG_BYTES, budget.logBytes - used.logBytes);
        const key = `log:${request.namespace}/${request.pod}/${request.container ?? ''}/${request.previous ? 1 : 0}/${request.tailLines ?? ''}/${limitBytes}/${request.sinceSeconds ?? ''}`;
        return shared(key, () =>
          client.request({ verb: 'get', resource, namespace: request.namespace, maxBodyBytes: limitBytes }, scope, (options) =>
            client.core.readNamespacedPodLog(
              {
                namespace: request.namespace,
                name: request.pod,
                container: request.container,
                previous: request.previous,
                tailLines: request.tailLines,
                limitBytes,
                sinceSeconds: request.sinceSeconds,
              },
              options,
            ),
          ),
        ).then((text) => {
          used.logBytes += Buffer.byteLength(text);
          return text;
        });
      },

      accessReview(request) {
        const resource = 'subjectaccessreviews.authorization.k8s.io';
        if (used.accessReviews >= budget.accessReviews) return Promise.reject(exceeded('create', resource, `${budget.accessReviews} access reviews`));
        used.accessReviews++;
        const { user, groups, ...attributes } = request;
        const key = `sar:${user}:${(groups ?? []).join(',')}:${JSON.stringify(attributes)}`;
        return shared(key, async () => {
          const review = await client.request({ verb: 'create', resource }, scope, (options) =>
            client.authorization.createSubjectAccessReview(
              { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, groups, resourceAttributes: attributes } } },
              options,
            ),
          );
          return { allowed: review.status?.allowed ?? false, denied: review.status?.denied ?? false, reason: review.status?.reason ?? '' };
        });
      },

      serverVersion() {
        return shared('version', async () => {
          const info = await client.request({ verb: 'get', resource: '/version' }, scope, (options) => client.version.getCode({}, options));
          return { gitVersion: info.gitVersion ?? '', platform: info.platform };
        });
      },

      selfAccessReview(attributes) {
        const resource = 'selfsubjectaccessreviews.authorization.k8s.io';
        if (used.accessReviews >= budget.accessReviews) return Promise.reject(exceeded('create', resource, `${budget.accessReviews} access reviews`));
        used.accessReviews++;
        const key = `ssar:${JSON.stringify(attributes)}`;
        return shared(key, async () => {
          const review = await client.request({ verb: 'create', resource }, scope, (options) =>
            client.authorization.createSelfSubjectAccessReview(
              { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } } },
              options,
            ),
          );
          return { allowed: review.status?.allowed ?? false, denied: review.status?.denied ?? false, reason: review.status?.reason ?? '' };
        });
      },
    };
  }
}
