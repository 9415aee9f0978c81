/**
 * Plugin configuration as the controller reads it, by version (utils/config/config.go GetPlugin and
 * ValidateConfig, utils/plugin/plugin.go GetPluginInfo at v1.7.2; resolver.go for disabled), and the
 * runtime lines src/argo/plugin-log.ts counts (rollout/trafficrouting/plugin/plugin.go).
 */
import { describe, expect, it } from 'vitest';
import { parseLogLine } from '../../src/argo/controller-log.js';
import { isPluginError } from '../../src/argo/plugin-log.js';
import { type ConfiguredPlugin, configInitError, invalidNameMessage, isDisabledStepPlugin, lookupPlugin, pluginKindsRead } from '../../src/argo/plugins.js';

const plugin = (name: string, kind: ConfiguredPlugin['kind'], disabled = false): ConfiguredPlugin => ({ name, kind, disabled });

describe('plugin lookup by version', () => {
  const configured = [plugin('argoproj-labs/cilium', 'metricProvider'), plugin('argoproj-labs/sample-step', 'step')];

  it('v1.8.0+ matches name and type: a traffic router under metricProviderPlugins is not configured', () => {
    expect(lookupPlugin(configured, 'argoproj-labs/cilium', 'trafficRouter', 'v1.8.4').plugin).toBeUndefined();
    expect(lookupPlugin(configured, 'argoproj-labs/cilium', 'metricProvider', 'v1.9.1').plugin?.name).toBe('argoproj-labs/cilium');
  });

  it('v1.7 matches the name only, over the two keys it reads (no stepPlugins before v1.8.0)', () => {
    expect(lookupPlugin(configured, 'argoproj-labs/cilium', 'trafficRouter', 'v1.7.2').plugin?.kind).toBe('metricProvider');
    expect(lookupPlugin(configured, 'argoproj-labs/sample-step', 'trafficRouter', 'v1.7.2').plugin).toBeUndefined();
    expect(pluginKindsRead('v1.7.2')).toEqual(['trafficRouter', 'metricProvider']);
  });

  it('disabled means something only for step plugins, from v1.8.0', () => {
    expect(isDisabledStepPlugin(plugin('a/b', 'step', true), 'v1.8.0')).toBe(true);
    expect(isDisabledStepPlugin(plugin('a/b', 'trafficRouter', true), 'v1.9.1')).toBe(false);
    expect(isDisabledStepPlugin(plugin('a/b', 'step', true), 'v1.7.2')).toBe(false);
  });

  it('names must be <namespace>/<name>: the first bad one is the controller\'s init error', () => {
    expect(invalidNameMessage('argoproj-labs/gatewayAPI')).toBeUndefined();
    expect(invalidNameMessage('argoproj_labs/cilium')).toBe('plugin repository (argoproj_labs/cilium) must be in the format of <namespace>/<name>');
    expect(configInitError([plugin('argoproj-labs/cilium', 'trafficRouter'), plugin('cilium', 'trafficRouter'), plugin('x', 'metricProvider')], 'v1.9.1')).toEqual({
      plugin: 'cilium',
      message: 'validation of config due to (plugin repository (cilium) must be in the format of <namespace>/<name>)',
    });
  });
});

describe('runtime plugin errors: one line per failed operation', () => {
  const line = (text: string) => isPluginError(parseLogLine(text));

  it('counts every traffic-router error the reconcile returns', () => {
    for (const error of ['update hash', 'set weight', 'set header route', 'set mirror route', 'remove managed routes']) {
      expect(line(`time="2026-11-26T13:55:00Z" level=error msg="roCtx.reconcile err failed to ${error} via plugin: boom" generation=3 namespace=shop resourceVersion=9 rollout=web`)).toBe(true);
    }
  });

  it('not a weight verification (an event; the reconcile goes on), nor the echoes of a failed reconcile', () => {
    expect(line('time="2026-11-26T13:55:00Z" level=warning msg="Failed to verify weight: failed to verify weight via plugin: boom" event_reason=WeightVerifyError namespace=shop rollout=web')).toBe(false);
    expect(line('time="2026-11-26T13:55:00Z" level=error msg="rollout syncHandler error: failed to set weight via plugin: boom" namespace=shop rollout=web')).toBe(false);
    expect(line('time="2026-11-26T13:55:00Z" level=warning msg="failed to set weight via plugin: boom" event_reason=TrafficRoutingError namespace=shop rollout=web')).toBe(false);
    expect(
      line(
        'time="2026-11-26T13:55:00Z" level=info msg="Event(v1.ObjectReference{Kind:\\"Rollout\\", Namespace:\\"shop\\", Name:\\"web\\", UID:\\"u\\", APIVersion:\\"argoproj.io/v1alpha1\\", ResourceVersion:\\"9\\", FieldPath:\\"\\"}): type: \'Warning\' reason: \'TrafficRoutingError\' failed to set weight via plugin: boom"',
      ),
    ).toBe(false);
  });

  it('a step plugin error exists only as its ReconciliationError event line: it counts', () => {
    expect(
      line(
        'time="2026-11-26T13:55:00Z" level=warning msg="Reconciliation failed with error: could not create step plugin at index 1 : failed to get step plugin argoproj-labs/sample-step: unable to start plugin system: unable to find plugin (argoproj-labs/sample-step): plugin argoproj-labs/sample-step not configured in configmap" event_reason=ReconciliationError namespace=shop rollout=web',
      ),
    ).toBe(true);
  });
});
