import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { runCli } from '../helpers/cli.js';

const FIXTURES = 'test/fixtures/config';

function parseConfigError(raw: unknown): string {
  try {
    parseConfig(raw, 'x.yaml');
    return 'no error';
  } catch (error) {
    return (error as Error).message;
  }
}

/** Each invalid file with its exact message (blackbox_exporter's config/testdata pattern). */
const INVALID: Record<string, string> = {
  'invalid-unknown-key.yaml': `${FIXTURES}/invalid-unknown-key.yaml: endpoints[0].timout: unknown key (did you mean "timeoutMs"?)`,
  'invalid-unknown-check.yaml': `${FIXTURES}/invalid-unknown-check.yaml: checks.rollout-stauts: unknown key (did you mean "rollout-status"?)`,
  'invalid-mute-check.yaml': `${FIXTURES}/invalid-mute-check.yaml: mute[0].check: unknown check "rollout-stauts" (did you mean "rollout-status"?)`,
  'invalid-wrong-type.yaml': `${FIXTURES}/invalid-wrong-type.yaml: timeouts.requestMs: expected number, got string`,
  'invalid-cron.yaml': `${FIXTURES}/invalid-cron.yaml: schedule: invalid cron expression "61 * * * * *": second: 61 is a invalid expression for second`,
  'invalid-cron-fields.yaml': `${FIXTURES}/invalid-cron-fields.yaml: schedule: invalid cron expression "every 30 seconds": expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (without seconds), got 3`,
  'invalid-url.yaml': `${FIXTURES}/invalid-url.yaml: endpoints[1].url: invalid URL "127.0.0.1:8080/healthz": expected http(s)://host[:port]/path`,
  'invalid-duplicate-endpoint.yaml': `${FIXTURES}/invalid-duplicate-endpoint.yaml: endpoints[1].name: duplicate endpoint name "litellm" (first used by endpoints[0])`,
  'invalid-duration.yaml': `${FIXTURES}/invalid-duration.yaml: checks.rollout-status.stuckAfter: invalid duration "ten minutes": use a number of seconds or a duration such as 90s, 10m, 1h30m`,
  'invalid-yaml.yaml': `${FIXTURES}/invalid-yaml.yaml: line 3, column 11: Nested mappings are not allowed in compact mappings`,
  'invalid-duplicate-key.yaml': `${FIXTURES}/invalid-duplicate-key.yaml: line 2, column 1: Map keys must be unique`,
  'invalid-mute-date.yaml': `${FIXTURES}/invalid-mute-date.yaml: mute[0].until: invalid date "next tuesday": use YYYY-MM-DD or an ISO-8601 date-time`,
  'invalid-token-source.yaml': `${FIXTURES}/invalid-token-source.yaml: endpoints[0].bearerToken: give exactly one of env or file`,
  'invalid-selector.yaml': `${FIXTURES}/invalid-selector.yaml: controller.selector: invalid label selector "app in (a": unable to parse requirement: found '', expected: ',' or ')'`,
  'invalid-plugin-release.yaml': `${FIXTURES}/invalid-plugin-release.yaml: plugins.argoproj-labs/gatewayAPI.controllerRulesByVersion[0].from: invalid release "0.12.0": expected a tag such as v0.12.0`,
  'invalid-plugin-release-range.yaml': `${FIXTURES}/invalid-plugin-release-range.yaml: plugins.argoproj-labs/gatewayAPI.controllerRulesByVersion[0].before: before (v0.1.0) must be a later release than from (v0.13.0)`,
  'invalid-enum.yaml': `${FIXTURES}/invalid-enum.yaml: endpoints[0].method: expected one of "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"`,
  'invalid-alias-bomb.yaml': `${FIXTURES}/invalid-alias-bomb.yaml: YAML aliases expand too far (the parser stops past 100 expansions: an alias bomb?); write the values out instead of aliasing them`,
  'invalid-bearer-token-inline.yaml': `${FIXTURES}/invalid-bearer-token-inline.yaml: endpoints[0].bearerToken: a token is not written in the config: use {env: NAME} (an environment variable) or {file: PATH} (a file, relative to the config)`,
  'invalid-check-timeout.yaml': `${FIXTURES}/invalid-check-timeout.yaml: timeouts.checkMs: 2000 ms is less than timeouts.requestMs (5000 ms): every check would be cut off before one API request times out`,
  'invalid-cycle-timeout.yaml': `${FIXTURES}/invalid-cycle-timeout.yaml: timeouts.cycleMs: 6000 ms is less than timeouts.requestMs (8000 ms): every cycle would be cut off before one API request times out`,
  'invalid-cycle-longer-than-schedule.yaml': `${FIXTURES}/invalid-cycle-longer-than-schedule.yaml: timeouts.cycleMs: 25000 ms is longer than the schedule's interval (10s: "*/10 * * * * *"): a cycle would still run when the next is due, and that tick would be skipped`,
  // Rules between fields are reported beside errors elsewhere in the file.
  'invalid-timeouts-and-token.yaml': [
    `${FIXTURES}/invalid-timeouts-and-token.yaml: timeouts.checkMs: 2000 ms is less than timeouts.requestMs (5000 ms): every check would be cut off before one API request times out`,
    `${FIXTURES}/invalid-timeouts-and-token.yaml: endpoints[0].bearerToken: a token is not written in the config: use {env: NAME} (an environment variable) or {file: PATH} (a file, relative to the config)`,
    `${FIXTURES}/invalid-timeouts-and-token.yaml: timeouts.cycleMs: 60000 ms is longer than the schedule's interval (10s: "*/10 * * * * *"): a cycle would still run when the next is due, and that tick would be skipped`,
  ].join('\n'),
  'invalid-schedule-faster-than-request.yaml': `${FIXTURES}/invalid-schedule-faster-than-request.yaml: timeouts.cycleMs: 1000 ms by default (the schedule's interval, 1s: "* * * * * *") is less than timeouts.requestMs (5000 ms): every cycle would be cut off before one API request times out; schedule less often or lower timeouts.requestMs`,
  // A directory named like a file, as a ConfigMap mounted as a folder looks.
  'invalid-directory.yaml': `${FIXTURES}/invalid-directory.yaml: is a directory, not a config file (did you mean ${FIXTURES}/invalid-directory.yaml/config.yaml?)`,
};

describe('config errors name the file and the path inside it', () => {
  it('has a message for every invalid fixture, and a fixture for every message', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.startsWith('invalid-'));
    expect(files.sort()).toEqual(Object.keys(INVALID).sort());
  });

  it.each(Object.entries(INVALID))('%s', async (file, message) => {
    await expect(loadConfigFile(path.join(FIXTURES, file))).rejects.toThrow(message);
    await expect(loadConfigFile(path.join(FIXTURES, file)).catch((e: Error) => e.message)).resolves.toBe(message);
  });

  it('a secret written inline is never repeated in the message', async () => {
    const message = await loadConfigFile(path.join(FIXTURES, 'invalid-bearer-token-inline.yaml')).catch((e: Error) => e.message);
    expect(message).not.toContain('sk-demo');
  });

  it('every timeout error of a file is reported, not only the first', () => {
    expect(parseConfigError({ timeouts: { requestMs: 9000, checkMs: 1000, cycleMs: 2000 } })).toBe(
      [
        'x.yaml: timeouts.checkMs: 1000 ms is less than timeouts.requestMs (9000 ms): every check would be cut off before one API request times out',
        'x.yaml: timeouts.cycleMs: 2000 ms is less than timeouts.requestMs (9000 ms): every cycle would be cut off before one API request times out',
      ].join('\n'),
    );
  });

  it('a missing file is named', async () => {
    await expect(loadConfigFile('checks/nope.yaml')).rejects.toThrow('checks/nope.yaml: cannot read config: no such file');
  });

  it('the CLI exits 2 with the message on stderr and nothing on stdout', async () => {
    const result = await runCli(['check', '--config', `${FIXTURES}/invalid-url.yaml`, '--simulate', 'test/fixtures/config']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(INVALID['invalid-url.yaml']);
  });

  it('serve exits 2 on a bad config from ROLLOUT_DOCTOR_CONFIG too', async () => {
    const result = await runCli(['serve', '--listen', '127.0.0.1:0'], { env: { ROLLOUT_DOCTOR_CONFIG: `${FIXTURES}/invalid-cron.yaml` } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(INVALID['invalid-cron.yaml']);
  });
});

describe('valid configs', () => {
  it('an empty document gives the discovery-only defaults', () => {
    const config = parseConfig(null, 'empty.yaml');
    expect(config.schedule).toBe('*/30 * * * * *');
    expect(config.controller).toEqual({
      namespace: 'argo-rollouts',
      deployment: 'argo-rollouts',
      selector: 'app.kubernetes.io/component=rollouts-controller',
      configMap: 'argo-rollouts-config',
    });
    expect(config.endpoints).toEqual([]);
    expect(config.checks['rollout-status']).toEqual({ enabled: true, stuckAfter: 600, pausedWarnAfter: 3600 });
  });

  it('checks/homelab.yaml describes the runbook stack', async () => {
    const { config } = await loadConfigFile('checks/homelab.yaml');
    expect(config.controller.namespace).toBe('argo-rollouts');
    expect(config.expectedRollouts).toEqual(['litellm/litellm', 'sympozium-system/sympozium-apiserver']);
    const [litellm, sympozium] = config.endpoints;
    expect(litellm).toMatchObject({ name: 'litellm', url: 'http://192.168.55.206:4000/v1/models', method: 'GET', bearerToken: { env: 'LITELLM_KEY' } });
    expect(sympozium).toMatchObject({ name: 'sympozium', url: 'http://192.168.55.207:8080/healthz', method: 'GET' });
  });

  it('token files resolve relative to the config file', async () => {
    const { config } = await loadConfigFile('src/simulator/scenarios/homelab/rollout-doctor.yaml');
    const file = config.endpoints.find((e) => e.bearerToken?.file)?.bearerToken?.file;
    expect(file).toBe(path.resolve('src/simulator/scenarios/homelab', 'demo-litellm.key'));
  });

  /** Every key the schema knows appears in checks/example.yaml, so the example stays complete. */
  it('checks/example.yaml shows every option', async () => {
    await loadConfigFile('checks/example.yaml');
    const example = parse(readFileSync('checks/example.yaml', 'utf8')) as unknown;
    const missing: string[] = [];
    const walk = (schema: unknown, value: unknown, at: string) => {
      let def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
      while (def.innerType || (def.type === 'pipe' && def.in)) def = ((def.innerType ?? def.in) as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (def.type === 'object') {
        for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) {
          const present = value !== null && typeof value === 'object' && key in (value as object);
          if (!present) missing.push(`${at}${at ? '.' : ''}${key}`);
          else walk(child, (value as Record<string, unknown>)[key], `${at}${at ? '.' : ''}${key}`);
        }
      } else if (def.type === 'array' && Array.isArray(value) && value.length > 0) {
        walk(def.element, value[0], `${at}[0]`);
      } else if (def.type === 'record' && value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) walk(def.valueType, child, `${at}.${key}`);
      }
    };
    walk(configSchema, example, '');
    // A request body and a token file (the alternative to env) appear commented out.
    expect(missing.filter((m) => !['endpoints[0].body', 'endpoints[0].bearerToken.file'].includes(m))).toEqual([]);
  });
});
