/**
 * The controller's failed-reconcile lines, in text and JSON format, as rollout/controller.go
 * syncHandler writes them (v1.8.4, v1.9.1); the other lines a failed plugin call produces (the
 * TrafficRoutingError event, its client-go Event line, `rollout syncHandler error`) and VerifyWeight's
 * WeightVerifyError lines are not reconcile errors.
 */
import { describe, expect, it } from 'vitest';
import { trafficRouterReconcileErrors } from '../../src/argo/traffic-router-errors.js';

const SET_WEIGHT = 'failed to set weight via plugin: httproutes.gateway.networking.k8s.io \\"litellm\\" not found';

const TEXT = [
  // One failed SetWeight reconcile, v1.9.1: the event (warning), client-go's Event line, the reconcile error, the work queue's line.
  `time="2026-11-26T13:51:10Z" level=warning msg="${SET_WEIGHT}" event_reason=TrafficRoutingError namespace=litellm rollout=litellm`,
  `time="2026-11-26T13:51:10Z" level=info msg="Event(v1.ObjectReference{Kind:\\"Rollout\\", Namespace:\\"litellm\\", Name:\\"litellm\\"}): type: 'Warning' reason: 'TrafficRoutingError' ${SET_WEIGHT}"`,
  `time="2026-11-26T13:51:10Z" level=error msg="roCtx.reconcile err ${SET_WEIGHT}" generation=11 namespace=litellm resourceVersion=2401177 rollout=litellm`,
  `time="2026-11-26T13:51:10Z" level=error msg="rollout syncHandler error: ${SET_WEIGHT}" namespace=litellm rollout=litellm`,
  // VerifyWeight: an event and the reconcile goes on.
  `time="2026-11-26T13:52:10Z" level=warning msg="Failed to verify weight: failed to verify weight via plugin: VerifyWeight rpc call error: unexpected EOF" event_reason=WeightVerifyError namespace=shop rollout=web`,
  // A reconcile error that is not the plugin's.
  `time="2026-11-26T13:53:10Z" level=error msg="roCtx.reconcile err failed to reconcileStableAndCanaryService: services \\"web-canary\\" not found" generation=3 namespace=shop resourceVersion=77 rollout=web`,
  // JSON format: the same line, keys sorted.
  `{"generation":4,"level":"error","msg":"roCtx.reconcile err failed to set header route via plugin: invalid header match type","namespace":"shop","resourceVersion":"80","rollout":"web","time":"2026-11-26T13:54:10Z"}`,
  `time="2026-11-26T13:55:10Z" level=error msg="roCtx.reconcile err failed to get traffic router plugin argoproj-labs/gatewayAPI: unable to start plugin system: unable to find plugin (argoproj-labs/gatewayAPI): plugin argoproj-labs/gatewayAPI not configured in configmap" generation=11 namespace=litellm resourceVersion=2401180 rollout=litellm`,
].join('\n');

describe('trafficRouterReconcileErrors', () => {
  const errors = trafficRouterReconcileErrors(TEXT);

  it('counts one line per failed reconcile, per Rollout, naming the plugin call', () => {
    expect(errors.get('litellm/litellm')).toEqual([
      { rollout: 'litellm/litellm', call: 'SetWeight', message: 'failed to set weight via plugin: httproutes.gateway.networking.k8s.io "litellm" not found', time: '2026-11-26T13:51:10Z' },
      {
        rollout: 'litellm/litellm',
        call: 'start',
        plugin: 'argoproj-labs/gatewayAPI',
        message: 'failed to get traffic router plugin argoproj-labs/gatewayAPI: unable to start plugin system: unable to find plugin (argoproj-labs/gatewayAPI): plugin argoproj-labs/gatewayAPI not configured in configmap',
        time: '2026-11-26T13:55:10Z',
      },
    ]);
  });

  it('reads JSON lines, and leaves out VerifyWeight and reconcile errors that are not a plugin call', () => {
    expect(errors.get('shop/web')).toEqual([{ rollout: 'shop/web', call: 'SetHeaderRoute', message: 'failed to set header route via plugin: invalid header match type', time: '2026-11-26T13:54:10Z' }]);
  });
});
