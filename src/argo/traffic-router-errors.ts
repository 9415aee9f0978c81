/**
 * A traffic-router plugin failing a Rollout's reconcile, in the controller's own words.
 *
 * rollout/trafficrouting/plugin/plugin.go (identical v1.7.2, v1.8.4, v1.9.1, v1.10.0-rc1) wraps every
 * plugin call's error: `failed to get traffic router plugin %s: %w`, `failed to update hash via
 * plugin: %w`, `failed to set weight via plugin: %w`, `failed to set header route via plugin: %w`,
 * `failed to set mirror route via plugin: %w`, `failed to remove managed routes via plugin: %w`, and
 * `failed to verify weight via plugin: %w`. rollout/trafficrouting.go reconcileTrafficRouting returns
 * all but the last, so the reconcile fails and rollout/controller.go syncHandler logs it once, at
 * error level, with the Rollout's fields:
 *
 *     level=error msg="roCtx.reconcile err failed to set weight via plugin: <err>" generation=<n> namespace=<ns> resourceVersion=<rv> rollout=<name>
 *
 * (utils/controller processNextWorkItem then logs `rollout syncHandler error: ...`, and SetWeight
 * failures also raise a TrafficRoutingError event, logged twice more: the `roCtx.reconcile err` line
 * is the one per failed reconcile.) A VerifyWeight failure is not a reconcile error: it raises a
 * WeightVerifyError event (`Failed to verify weight: ...`) and the reconcile goes on.
 */
import { logField, logLines } from './controller-log.js';

/** rollout/controller.go syncHandler: `logCtx.Errorf("roCtx.reconcile err %v", err)`. */
const RECONCILE_ERROR = 'roCtx.reconcile err ';

/** The plugin call each wrapped error comes from. */
export const TRAFFIC_ROUTER_CALL_ERRORS = [
  { call: 'start', prefix: 'failed to get traffic router plugin ' },
  { call: 'UpdateHash', prefix: 'failed to update hash via plugin: ' },
  { call: 'SetWeight', prefix: 'failed to set weight via plugin: ' },
  { call: 'SetHeaderRoute', prefix: 'failed to set header route via plugin: ' },
  { call: 'SetMirrorRoute', prefix: 'failed to set mirror route via plugin: ' },
  { call: 'RemoveManagedRoutes', prefix: 'failed to remove managed routes via plugin: ' },
] as const;

export type TrafficRouterCall = (typeof TRAFFIC_ROUTER_CALL_ERRORS)[number]['call'];

export interface ReconcileError {
  /** `<namespace>/<rollout>` from the line's fields. */
  rollout: string;
  call: TrafficRouterCall;
  /** The plugin a `failed to get traffic router plugin <name>` line names. */
  plugin?: string;
  /** The error as the controller wrapped it (without `roCtx.reconcile err `). */
  message: string;
  time?: string;
}

/** Failed reconciles caused by a traffic-router plugin, per `<namespace>/<rollout>`, oldest first. */
export function trafficRouterReconcileErrors(text: string): Map<string, ReconcileError[]> {
  const out = new Map<string, ReconcileError[]>();
  for (const line of logLines(text)) {
    if (!line.message.startsWith(RECONCILE_ERROR)) continue;
    const message = line.message.slice(RECONCILE_ERROR.length);
    const match = TRAFFIC_ROUTER_CALL_ERRORS.find((error) => message.startsWith(error.prefix));
    const namespace = logField(line, 'namespace');
    const rollout = logField(line, 'rollout');
    if (!match || !namespace || !rollout) continue;
    const error: ReconcileError = { rollout: `${namespace}/${rollout}`, call: match.call, message, ...(line.time ? { time: line.time } : {}) };
    if (match.call === 'start') {
      const plugin = /^(\S+?):/.exec(message.slice(match.prefix.length))?.[1];
      if (plugin) error.plugin = plugin;
    }
    const list = out.get(error.rollout) ?? [];
    list.push(error);
    out.set(error.rollout, list);
  }
  return out;
}
