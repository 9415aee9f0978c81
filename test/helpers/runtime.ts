/** A daemon on a simulated cluster, built through main.ts as `serve --simulate` builds it. */
import { parseConfig } from '../../src/config/load.js';
import type { Check } from '../../src/engine/types.js';
import { createRuntime, type Runtime } from '../../src/main.js';
import type { Fault } from '../../src/simulator/types.js';
import { captureLog, type CapturedLog } from './logs.js';

export interface TestRuntime extends Runtime {
  captured: CapturedLog;
}

export async function testRuntime(options: {
  dir: string;
  config?: Record<string, unknown>;
  checks?: readonly Check[];
  faults?: Record<string, Fault>;
  now?: () => Date;
  only?: string[];
}): Promise<TestRuntime> {
  const captured = captureLog('debug');
  const config = parseConfig(options.config ?? {}, 'test-config.yaml');
  const runtime = await createRuntime({
    config: { config, file: 'test-config.yaml', baseDir: process.cwd() },
    simulate: { dir: options.dir, faults: options.faults, ephemeralAppPorts: true },
    checks: options.checks,
    log: captured.log,
    only: options.only,
    now: options.now,
  });
  return Object.assign(runtime, { captured });
}
