/**
 * rollout-traffic's metric families, read from fixture cases (test/fixtures/rollout-traffic/<case>/:
 * Rollouts routed by a traffic-router plugin, the Cilium CRD and CiliumEnvoyConfigs, the Gateway API
 * CRDs and routes, or a configured object kind; the cases run in fixtures.test.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/rollout-traffic.js';
import { collectSeries, FIXTURE_ROOT, runCase } from '../helpers/cases.js';

const ID = 'rollout-traffic';


describe(`${ID} metrics`, () => {
  const series = async (caseName: string) => {
    const output = await runCase(ID, path.join(FIXTURE_ROOT, ID, caseName), { now: '2026-11-26T14:00:00Z' });
    return output.body.checks
      .filter((c) => c.check === ID)
      .flatMap((result) => metrics.flatMap((family) => collectSeries(family, result).map((s) => `${family.name}{${s.labels.namespace}/${s.labels.rollout},${s.labels.plugin}} ${s.value}`)));
  };

  it('present and ok per rollout and plugin: 0 while the canary holds traffic without the object', async () => {
    expect(await series('canary-weight-20-no-cec')).toEqual([
      'rollout_doctor_rollout_traffic_object_present{litellm/litellm,argoproj-labs/cilium} 0',
      'rollout_doctor_rollout_traffic_object_ok{litellm/litellm,argoproj-labs/cilium} 0',
    ]);
    expect(await series('not-holding-traffic')).toEqual([
      'rollout_doctor_rollout_traffic_object_present{litellm/litellm,argoproj-labs/cilium} 0',
      'rollout_doctor_rollout_traffic_object_ok{litellm/litellm,argoproj-labs/cilium} 1',
    ]);
  });

  it('emits nothing for a router without an object check', async () => {
    expect(await series('unknown-router')).toEqual([]);
  });

  it('Gateway API routes: present while every route exists, ok while they carry the controller weights', async () => {
    expect(await series('gateway-ok')).toEqual([
      'rollout_doctor_rollout_traffic_object_present{litellm/litellm,argoproj-labs/gatewayAPI} 1',
      'rollout_doctor_rollout_traffic_object_ok{litellm/litellm,argoproj-labs/gatewayAPI} 1',
    ]);
    expect(await series('gateway-weights-out-of-step')).toEqual([
      'rollout_doctor_rollout_traffic_object_present{litellm/litellm,argoproj-labs/gatewayAPI} 1',
      'rollout_doctor_rollout_traffic_object_ok{litellm/litellm,argoproj-labs/gatewayAPI} 0',
    ]);
    expect(await series('gateway-route-missing')).toEqual([
      'rollout_doctor_rollout_traffic_object_present{litellm/litellm,argoproj-labs/gatewayAPI} 0',
      'rollout_doctor_rollout_traffic_object_ok{litellm/litellm,argoproj-labs/gatewayAPI} 0',
    ]);
  });

  it('a plugin call failing the reconcile makes ok 0 though the route is in step', async () => {
    expect(await series('runtime-update-hash-rpc-error')).toEqual([
      'rollout_doctor_rollout_traffic_object_present{litellm/litellm,argoproj-labs/gatewayAPI} 1',
      'rollout_doctor_rollout_traffic_object_ok{litellm/litellm,argoproj-labs/gatewayAPI} 0',
    ]);
  });
});
