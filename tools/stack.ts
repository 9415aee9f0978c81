/**
 * `npm run stack`: the whole monitoring path on one machine, on loopback. rollout-doctor serves a
 * simulated cluster (`serve --simulate`), a VictoriaMetrics single node scrapes it the way
 * deploy/vmservicescrape.yaml has vmagent do it (interval, honorLabels, the `cluster` label set to the
 * scenario's name), and vmalert evaluates the shipped alert rules against it and sends what fires to
 * a loopback Alertmanager stand-in that prints each alert as it fires and resolves. Prints the URLs;
 * Ctrl-C (SIGINT) or SIGTERM stops all three and removes their temporary directories.
 *
 *   npm run stack                                  the bundled homelab (every check ok: no alert)
 *   npm run stack -- --scenario failing            the observability tests' failing scenario
 *   npm run stack -- --scenario NAME|DIR           a `rollout-doctor demo --list` scenario, or a scenario folder
 *   npm run stack -- --for 10s                     every rule's `for` shortened, to see alerts fire
 *
 * Needs victoria-metrics and vmalert on PATH (Debian's victoria-metrics package); without them it
 * says so and exits 2, as it does on a bad argument. docs/victoriametrics.md.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { COMPAT_FILE } from '../deploy/alerts/render.js';
import { serve, type Served, type SimulateOptions } from '../src/main.js';
import { packageRoot } from '../src/version.js';
import { findBinary } from '../test/helpers/binaries.js';
import {
  type AlertReceiver,
  labelKey,
  ruleFileFor,
  type RunningVictoriaMetrics,
  type RunningVmalert,
  startAlertReceiver,
  startVictoriaMetrics,
  startVmalert,
  VICTORIA_METRICS_INSTALL,
  VICTORIA_METRICS_PACKAGE,
  vmServiceScrapeConfig,
} from '../test/helpers/victoria-metrics.js';
import { FAILING_NOW, FAILING_RBAC_SUBJECT, writeFailingScenario } from '../test/observability/failing-scenario.js';

const REPO = packageRoot();
const SCENARIOS_DIR = path.join(REPO, 'src', 'simulator', 'scenarios');
const EVALUATION_INTERVAL = '10s';
const EXAMPLE_QUERY = 'sum by (cluster, check, status) (rollout_doctor_check_status == 1)';

const USAGE = `usage: npm run stack [-- --scenario NAME|DIR] [--for DURATION]

  --scenario NAME|DIR   a bundled scenario (${bundledScenarios().join(', ')}), "failing" (every check
                        fails somewhere: test/observability/failing-scenario.ts), or a scenario folder
                        (default homelab)
  --for DURATION        replace every rule's for (1m to 15m as shipped) with DURATION, e.g. 10s
`;

class UsageError extends Error {}

/** The scenarios `rollout-doctor demo --list` shows (a leading _ marks a shared base, not a scenario). */
function bundledScenarios(): string[] {
  return readdirSync(SCENARIOS_DIR).filter((name) => !/^[_.]/.test(name) && statSync(path.join(SCENARIOS_DIR, name)).isDirectory());
}

interface Scenario {
  name: string;
  simulate: SimulateOptions;
  /** Where it came from, for the banner. */
  source: string;
  remove(): void;
}

function resolveScenario(value: string): Scenario {
  if (value === 'failing') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-stack-failing-'));
    writeFailingScenario(dir);
    return {
      name: 'failing',
      simulate: { dir, now: new Date(FAILING_NOW), enforceRbacSubject: FAILING_RBAC_SUBJECT, ephemeralAppPorts: true },
      source: `test/observability/failing-scenario.ts, written to ${dir}`,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const bundled = path.join(SCENARIOS_DIR, value);
  const dir = /[/\\.]/.test(value) ? path.resolve(value) : bundled;
  if (!existsSync(dir) || !statSync(dir).isDirectory() || (dir === bundled && !bundledScenarios().includes(value))) {
    throw new UsageError(`--scenario ${value}: no such scenario (bundled: ${bundledScenarios().join(', ')}; or "failing", or a folder)`);
  }
  return { name: path.basename(dir), simulate: { dir, ephemeralAppPorts: true }, source: path.relative(process.cwd(), dir) || '.', remove: () => undefined };
}

/** The rules this vmalert loads, every `for` replaced when asked. */
function rules(vmalert: string, forOverride: string | undefined): { file: string; text: string } {
  const file = ruleFileFor(vmalert);
  const text = readFileSync(file, 'utf8');
  if (!forOverride) return { file, text };
  const groups = parse(text) as { groups: { rules: Record<string, unknown>[] }[] };
  for (const group of groups.groups) for (const rule of group.rules) if (rule.for !== undefined) rule.for = forOverride;
  return { file, text: stringify(groups) };
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}

function describeAlert(labels: Record<string, string>): string {
  const { alertname, alertgroup: _group, severity, ...rest } = labels;
  return `${alertname} (${severity}) ${Object.entries(rest)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}

async function main(): Promise<number> {
  let values: { scenario?: string; for?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { scenario: { type: 'string' }, for: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.for !== undefined && !/^(\d+(ms|s|m|h))+$/.test(values.for)) {
    process.stderr.write(`--for ${values.for}: expected a duration such as 10s or 1m\n${USAGE}`);
    return 2;
  }
  const binaries = { 'victoria-metrics': findBinary('victoria-metrics'), vmalert: findBinary('vmalert') };
  const missing = Object.entries(binaries).filter(([, found]) => !found).map(([name]) => name);
  if (missing.length > 0) {
    process.stderr.write(
      `npm run stack needs ${missing.join(' and ')} on PATH: install Debian's ${VICTORIA_METRICS_PACKAGE} package (victoria-metrics, vmagent, vmalert):\n  sudo ${VICTORIA_METRICS_INSTALL}\n` +
        `It may start a victoria-metrics service on :8428; the stack uses its own ports and does not need it (sudo systemctl disable --now victoria-metrics).\n`,
    );
    return 2;
  }
  let scenario: Scenario;
  try {
    scenario = resolveScenario(values.scenario ?? 'homelab');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}`);
    return 2;
  }

  let served: Served | undefined;
  let receiver: AlertReceiver | undefined;
  let vm: RunningVictoriaMetrics | undefined;
  let alerter: RunningVmalert | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.allSettled([alerter?.stop(), vm?.stop()]);
      await Promise.allSettled([receiver?.close(), served?.stop()]);
      scenario.remove();
    })());
  const finished = new Promise<number>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.stdout.write(`\n${signal}: stopping vmalert, victoria-metrics and rollout-doctor\n`);
        void stop().then(() => resolve(0));
      });
    }
  });

  try {
    served = await serve({ simulate: scenario.simulate, listen: { host: '127.0.0.1', port: 0 }, logLevel: 'warn' });
    const firing = new Set<string>();
    receiver = await startAlertReceiver((alert) => {
      const key = labelKey(alert.labels);
      const isFiring = !alert.endsAt || Date.parse(alert.endsAt) > Date.now();
      if (isFiring && !firing.has(key)) {
        firing.add(key);
        process.stdout.write(`${timestamp()} FIRING   ${describeAlert(alert.labels)}\n           ${alert.annotations.summary ?? ''}\n`);
      } else if (!isFiring && firing.delete(key)) {
        process.stdout.write(`${timestamp()} RESOLVED ${describeAlert(alert.labels)}\n`);
      }
    });
    const scrape = parse(readFileSync(path.join(REPO, 'deploy', 'vmservicescrape.yaml'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const target = served.url.replace(/^http:\/\//, '');
    vm = await startVictoriaMetrics({ binary: binaries['victoria-metrics']!, scrapeConfigs: [vmServiceScrapeConfig(scrape, scenario.name, target)] });
    const interval = String(scrape.spec.endpoints[0].interval);
    process.stdout.write(
      `rollout-doctor stack: scenario ${scenario.name} (${scenario.source}), everything on 127.0.0.1\n\n` +
        `  rollout-doctor    ${served.url}/health?format=text  (and ${served.url}/metrics)\n` +
        `  VictoriaMetrics   ${vm.url}/api/v1/query?query=${encodeURIComponent(EXAMPLE_QUERY)}\n` +
        `                    victoria-metrics pid ${vm.pid}, data in ${vm.dir}; scrapes rollout-doctor every ${interval} as cluster="${scenario.name}"\n`,
    );
    // vmalert starts once the first scrape landed: before it, RolloutDoctorDown ("down or not
    // scraped") is right, and a short --for would fire it.
    await vm.waitFor(`up{job="rollout-doctor"}`, undefined, 3 * 60_000);
    const loaded = rules(binaries.vmalert!, values.for);
    alerter = await startVmalert({ binary: binaries.vmalert!, datasourceUrl: vm.url, notifierUrl: receiver.url, evaluationInterval: EVALUATION_INTERVAL, ruleFiles: { [path.basename(loaded.file)]: loaded.text } });
    const ruleNote = loaded.file === COMPAT_FILE ? 'this vmalert rejects keep_firing_for' : 'this vmalert takes keep_firing_for';
    process.stdout.write(
      `  vmalert alerts    ${alerter.url}/api/v1/alerts\n` +
        `  vmalert UI        ${alerter.url}/vmalert/alerts  (rules: ${alerter.url}/vmalert/groups)\n` +
        `                    vmalert pid ${alerter.pid}, rules in ${alerter.dir}\n` +
        `  rules             ${path.relative(REPO, loaded.file)} (${ruleNote}), every ${EVALUATION_INTERVAL}, ${values.for ? `every for set to ${values.for}` : 'for as shipped (1m to 15m)'}\n` +
        `  notifier          ${receiver.url} (alerts are printed below as they fire and resolve)\n\n` +
        `Debian's victoria-metrics has no /vmui: query with curl or point a Grafana Prometheus data source at ${vm.url}.\n` +
        `Alerts go pending at the first evaluation and fire after their for${values.for ? '' : ' (--for 10s to see them sooner)'}.\n` +
        `Ctrl-C stops all three.\n`,
    );
  } catch (error) {
    // Ctrl-C while starting stops what runs, which fails whatever was waiting on it.
    if (stopping) return finished;
    process.stderr.write(`npm run stack: ${(error as Error).message}\n`);
    await stop();
    return 1;
  }

  // A component that dies on its own ends the stack (after a moment: a terminal's Ctrl-C reaches
  // victoria-metrics and vmalert too, and they may exit before our own handler runs).
  const died = Promise.race([vm.exited.then((e) => ({ name: 'victoria-metrics', log: vm!.log(), ...e })), alerter.exited.then((e) => ({ name: 'vmalert', log: alerter!.log(), ...e }))]).then(async (death) => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (stopping) return finished;
    process.stderr.write(`${death.name} exited (code ${death.code ?? death.signal}):\n${death.log}\n`);
    await stop();
    return 1;
  });
  return Promise.race([finished, died]);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm run stack: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
