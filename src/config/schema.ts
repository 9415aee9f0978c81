/**
 * The configuration schema for checks/*.yaml. Strict everywhere: an unknown key is an error, so a
 * typo never silently disables a check. The config only says what cannot be discovered from the
 * cluster (endpoints, thresholds, schedule, enabled checks); rollouts are discovered.
 */
import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { compareReleases, parseReleaseTag } from '../argo/plugin-release.js';
import { LabelSelectorError, parseLabelSelector } from '../kube/label-selector.js';
import { formatDuration, parseDuration } from './duration.js';
import { scheduleGapsMs } from './schedule.js';

const cronExpression = z.string().superRefine((value, ctx) => {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid cron expression "${value}": expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (without seconds), got ${fields.length}`,
    });
    return;
  }
  const result = validateDetailed(value);
  if (!result.valid) {
    const why = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    ctx.addIssue({ code: 'custom', message: `invalid cron expression "${value}": ${why}` });
  }
});

/** A label selector as `kubectl -l` takes it, checked with the API server's grammar and messages. */
const labelSelector = z.string().min(1).superRefine((value, ctx) => {
  try {
    parseLabelSelector(value);
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    ctx.addIssue({ code: 'custom', message: `invalid label selector "${value}": ${error.message}` });
  }
});

/** A Go-style duration ("30s", "10m", "1h30m") kept as seconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = typeof value === 'number' ? value : parseDuration(value);
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${value}": use a number of seconds or a duration such as 90s, 10m, 1h30m` });
    return z.NEVER;
  }
  return seconds;
});

const httpUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `invalid URL "${value}": expected http(s)://host[:port]/path` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `invalid URL "${value}": expected http(s)://host[:port]/path` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: `invalid URL "${value}": no host` });
  }
});

const positiveMs = z.number().int().positive();

/** Where a secret comes from; its value is never part of the config itself. */
const secretSource = z
  .strictObject({
    env: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
  })
  .refine((s) => (s.env === undefined) !== (s.file === undefined), {
    message: 'give exactly one of env or file',
  });

const statusSet = z.array(z.number().int().min(100).max(599)).min(1);

export const endpointSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'endpoint names are letters, digits, ".", "_" and "-"'),
  url: httpUrl,
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  bearerToken: secretSource.optional(),
  /** Accepted status codes; default any 2xx. */
  expectStatus: statusSet.optional(),
  bodyContains: z.string().optional(),
  /** JSON path (`$.data[0].id` style, dots and [index]) whose value must equal `jsonEquals`. */
  jsonPath: z.string().optional(),
  jsonEquals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  timeoutMs: positiveMs.default(5000),
  slowAfterMs: positiveMs.default(2000),
  tlsVerify: z.boolean().default(true),
  /** `<namespace>/<rollout>` this endpoint serves, for grouping and remediation. */
  rollout: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected <namespace>/<rollout>').optional(),
});

const checkToggle = { enabled: z.boolean().default(true) };

const pluginRule = z.strictObject({
  apiGroups: z.array(z.string()).min(1),
  resources: z.array(z.string().min(1)).min(1),
  verbs: z.array(z.string().min(1)).min(1),
});

/** A plugin release tag as plugins tag their GitHub releases: v0.12.0, v0.0.0-rc1. */
const releaseTag = z.string().superRefine((value, ctx) => {
  if (!parseReleaseTag(value)) ctx.addIssue({ code: 'custom', message: `invalid release "${value}": expected a tag such as v0.12.0` });
});

/** Rules a plugin needs from one release (inclusive) until another (exclusive). */
const versionedPluginRules = z
  .strictObject({
    from: releaseTag.optional(),
    before: releaseTag.optional(),
    /** Where the rules come from, shown with them (the plugin's installation docs). */
    source: z.string().min(1).optional(),
    rules: z.array(pluginRule).min(1),
  })
  .superRefine((row, ctx) => {
    const from = row.from === undefined ? undefined : parseReleaseTag(row.from);
    const before = row.before === undefined ? undefined : parseReleaseTag(row.before);
    if (from && before && compareReleases(from, before) >= 0) ctx.addIssue({ code: 'custom', path: ['before'], message: `before (${row.before}) must be a later release than from (${row.from})` });
  });

const trafficObjectRule = z.strictObject({
  /** Group of the object the router creates, e.g. cilium.io. */
  group: z.string().min(1),
  version: z.string().min(1),
  /** Kind, e.g. CiliumEnvoyConfig. */
  kind: z.string().min(1),
  /** REST plural, e.g. ciliumenvoyconfigs. */
  plural: z.string().min(1),
  /** Which of the rollout's services the object must name. */
  matchServices: z.enum(['stable-or-canary', 'stable-and-canary']).default('stable-or-canary'),
});

const configObject = z.strictObject({
  /** Cron with seconds (node-cron); default every 30 s. */
  schedule: cronExpression.default('*/30 * * * * *'),
  /** When set, every remediation command carries --context <name>. */
  kubectlContext: z.string().min(1).optional(),
  namespaces: z
    .strictObject({
      /** Globs; empty means every namespace. */
      include: z.array(z.string().min(1)).default([]),
      exclude: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      /** One Kubernetes API or probe request. */
      requestMs: positiveMs.default(5000),
      /** One check's run, its targeted reads and probes included. */
      checkMs: positiveMs.default(15000),
      /** A whole cycle: snapshot plus checks. Default: DEFAULT_CYCLE_MS, or the schedule's interval when shorter. */
      cycleMs: positiveMs.optional(),
    })
    // Here, not with the schedule's rules below: these are reported even when another part of the config has errors.
    .superRefine(({ requestMs, checkMs, cycleMs }, ctx) => {
      if (checkMs < requestMs) {
        ctx.addIssue({ code: 'custom', path: ['checkMs'], message: `${checkMs} ms is less than timeouts.requestMs (${requestMs} ms): every check would be cut off before one API request times out` });
      }
      if (cycleMs !== undefined && cycleMs < requestMs) {
        ctx.addIssue({ code: 'custom', path: ['cycleMs'], message: `${cycleMs} ms is less than timeouts.requestMs (${requestMs} ms): every cycle would be cut off before one API request times out` });
      }
    })
    .prefault({}),
  controller: z
    .strictObject({
      namespace: z.string().min(1).default('argo-rollouts'),
      /** The controller Deployment's name; when absent there, the one matching `selector`. */
      deployment: z.string().min(1).default('argo-rollouts'),
      selector: labelSelector.default('app.kubernetes.io/component=rollouts-controller'),
      configMap: z.string().min(1).default('argo-rollouts-config'),
    })
    .prefault({}),
  /** Rollouts the operator expects to exist (discovery still finds every other one). */
  expectedRollouts: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected <namespace>/<rollout>')).default([]),
  /** How results group into incidents (src/incidents/correlate.ts). */
  incidents: z
    .strictObject({
      /** How long the effects of a recovered root stay under its incident as `recovering`. */
      holdDown: duration.default(300),
    })
    .prefault({}),
  /** Per traffic-router plugin: RBAC the controller needs (for every release, or by release) and the object it must create. */
  plugins: z
    .record(
      z.string().min(1),
      z.strictObject({
        controllerRules: z.array(pluginRule).default([]),
        controllerRulesByVersion: z.array(versionedPluginRules).default([]),
        trafficObject: trafficObjectRule.optional(),
      }),
    )
    .default({}),
  checks: z
    .strictObject({
      'kube-api': z.strictObject({ ...checkToggle }).prefault({}),
      'controller-pods': z.strictObject({ ...checkToggle }).prefault({}),
      'controller-plugins': z
        .strictObject({
          ...checkToggle,
          /** How far back the controller log is searched for runtime plugin errors. */
          recentWindow: duration.default(600),
        })
        .prefault({}),
      'controller-rbac': z.strictObject({ ...checkToggle }).prefault({}),
      'self-rbac': z.strictObject({ ...checkToggle }).prefault({}),
      'rollout-traffic': z.strictObject({ ...checkToggle }).prefault({}),
      'argocd-sync': z.strictObject({ ...checkToggle }).prefault({}),
      endpoint: z.strictObject({ ...checkToggle }).prefault({}),
      'rollout-status': z
        .strictObject({
          ...checkToggle,
          stuckAfter: duration.default(600),
          pausedWarnAfter: duration.default(3600),
        })
        .prefault({}),
      'rollout-analysis': z.strictObject({ ...checkToggle }).prefault({}),
      'rollout-references': z.strictObject({ ...checkToggle }).prefault({}),
      'rollout-services': z.strictObject({ ...checkToggle }).prefault({}),
      'rollout-pods': z.strictObject({ ...checkToggle }).prefault({}),
      'analysis-preflight': z
        .strictObject({
          ...checkToggle,
          /** When non-empty, only these provider hosts (host or host:port) are queried. */
          allowedHosts: z.array(z.string().min(1)).default([]),
          /** The providers rollout-doctor queries (a web metric may POST: leave `web` out to never send one). */
          providers: z.array(z.enum(['prometheus', 'web'])).default(['prometheus', 'web']),
        })
        .prefault({}),
    })
    .prefault({}),
  endpoints: z.array(endpointSchema).default([]).superRefine((endpoints, ctx) => {
    const seen = new Map<string, number>();
    endpoints.forEach((endpoint, index) => {
      const first = seen.get(endpoint.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate endpoint name "${endpoint.name}" (first used by endpoints[${first}])`,
        });
      } else {
        seen.set(endpoint.name, index);
      }
    });
  }),
  mute: z
    .array(
      z.strictObject({
        check: z.string().min(1),
        /** Glob over targets (`*` matches anything, `?` one character). */
        target: z.string().min(1).default('*'),
        reason: z.string().min(1),
        /** Date or date-time; the mute ends then. */
        until: z
          .union([z.string(), z.date()])
          .transform((value, ctx) => {
            const date = value instanceof Date ? value : new Date(value);
            if (Number.isNaN(date.getTime())) {
              ctx.addIssue({ code: 'custom', message: `invalid date "${String(value)}": use YYYY-MM-DD or an ISO-8601 date-time` });
              return z.NEVER;
            }
            return date;
          })
          .optional(),
      }),
    )
    .default([]),
});

/** `timeouts.cycleMs` when the config does not set it and the schedule is not faster. */
export const DEFAULT_CYCLE_MS = 25000;

type ConfigInput = z.output<typeof configObject>;

/**
 * Deadlines that would break every cycle: a check or cycle deadline shorter than one API request's
 * timeout cuts everything off before a slow request can fail on its own (checked on `timeouts`
 * itself), and a cycle deadline longer than the schedule's interval keeps a cycle running when the
 * next one is due (that tick is skipped). Fills in the default cycleMs: 25 s, or the schedule's
 * shortest interval.
 */
function cycleDeadline(config: ConfigInput): { cycleMs: number; intervalMs: number } {
  const intervalMs = Math.min(...scheduleGapsMs(config.schedule));
  return { cycleMs: config.timeouts.cycleMs ?? Math.min(DEFAULT_CYCLE_MS, intervalMs), intervalMs };
}

function checkCycleDeadline(config: ConfigInput, ctx: z.RefinementCtx): void {
  const { requestMs } = config.timeouts;
  const { cycleMs, intervalMs } = cycleDeadline(config);
  const interval = `${formatDuration(intervalMs / 1000)}: "${config.schedule}"`;
  const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['timeouts', 'cycleMs'], message });
  if (config.timeouts.cycleMs === undefined) {
    if (cycleMs < requestMs) {
      issue(`${cycleMs} ms by default (the schedule's interval, ${interval}) is less than timeouts.requestMs (${requestMs} ms): every cycle would be cut off before one API request times out; schedule less often or lower timeouts.requestMs`);
    }
  } else if (cycleMs >= requestMs && cycleMs > intervalMs) {
    issue(`${cycleMs} ms is longer than the schedule's interval (${interval}): a cycle would still run when the next is due, and that tick would be skipped`);
  }
}

/** The schedule and the timeouts were read (the timeouts' own rules may have complained): the rules between them apply. */
const hasScheduleAndTimeouts = (payload: z.core.ParsePayload) => !payload.issues.some((i) => i.path?.[0] === 'schedule' || (i.path?.[0] === 'timeouts' && i.code !== 'custom'));

export const configSchema = configObject
  .superRefine((config, ctx) => {
    // A misspelt check id would mute nothing, silently.
    config.mute.forEach((mute, index) => {
      if (!Object.hasOwn(config.checks, mute.check)) {
        ctx.addIssue({ code: 'custom', path: ['mute', index, 'check'], message: `unknown check "${mute.check}"`, params: { unknownCheck: mute.check } });
      }
    });
  })
  .superRefine(checkCycleDeadline, { when: hasScheduleAndTimeouts })
  .transform((config): Config => ({ ...config, timeouts: { ...config.timeouts, cycleMs: cycleDeadline(config).cycleMs } }));

export type Config = Omit<ConfigInput, 'timeouts'> & { timeouts: Required<ConfigInput['timeouts']> };
export type EndpointConfig = z.output<typeof endpointSchema>;
export type CheckId = keyof Config['checks'];
export const CHECK_IDS = Object.keys(configObject.shape.checks.unwrap().shape) as CheckId[];
