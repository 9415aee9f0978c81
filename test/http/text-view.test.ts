/**
 * The text view (src/http/text-view.ts) on documents built by hand: the count line, the order of the
 * rows, what collapses, Rollout blocks, colour, and the width rule (no line longer than asked,
 * measured as a terminal shows it). Wrapped commands are handed to a real POSIX shell, which must
 * read them as the same arguments as the unwrapped ones.
 */
import { execFileSync } from 'node:child_process';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import type { HealthBody, HealthEntry } from '../../src/http/health-schema.js';
import { renderTextView, wrapCommand, wrapWords } from '../../src/http/text-view.js';
import { terminalOptions } from '../../src/terminal.js';

const CHECKED_AT = '2026-11-26T12:00:00.000Z';
const NOW = Date.parse(CHECKED_AT) + 12_000;

function entry(check: string, target: string, status: HealthEntry['status'], extra: Partial<HealthEntry> = {}): HealthEntry {
  return { check, target, status, summary: `${check} ${target} is ${status}`, remediation: status === 'ok' ? [] : [`kubectl get thing ${target}`], details: {}, since: CHECKED_AT, durationMs: 1, ...extra };
}

const pointer = (check: string, target: string): HealthEntry =>
  entry(check, target, 'unknown', { summary: 'not checked: the Kubernetes API is unreachable (see kube-api)', remediation: ['Fix what kube-api reports first; this is checked again next cycle'], details: { blockedBy: 'kube-api' } });

const DOC: HealthBody = {
  schemaVersion: 1,
  status: 'fail',
  checkedAt: CHECKED_AT,
  cycle: { durationMs: 41.2, apiRequests: 20 },
  incidents: [],
  checks: [
    entry('controller-pods', 'argo-rollouts/argo-rollouts', 'ok'),
    entry('endpoint', 'litellm', 'warn', { rollout: 'shop/web' }),
    entry('kube-api', 'homelab', 'unknown', { summary: 'Kubernetes API https://127.0.0.1:6443 (context homelab) unreachable: ECONNREFUSED', remediation: ['Check it: kubectl --context homelab cluster-info'] }),
    entry('rollout-pods', 'shop/web', 'fail', { rollout: 'shop/web' }),
    pointer('rollout-services', '*'),
    entry('rollout-status', 'shop/api', 'ok', { rollout: 'shop/api' }),
    entry('rollout-status', 'shop/muted', 'fail', { rollout: 'shop/muted', muted: true, muteReason: 'maintenance window' }),
    pointer('self-rbac', 'core/pods'),
    pointer('self-rbac', 'core/services'),
  ],
};

/** Widest line, as a terminal shows it (ANSI colours take no room). */
const widest = (text: string) => Math.max(...text.split('\n').map((line) => stringWidth(line)));

describe('the text view', () => {
  it('counts first, then failing and unknown rows, then warn, then ok collapsed per check', () => {
    expect(renderTextView(DOC, NOW, { width: 100 }).split('\n')).toEqual([
      '1 fail, 4 unknown, 1 warn, 2 ok, 1 muted (checked 12 s ago, cycle 41 ms)',
      '',
      'UNKNOWN  kube-api      homelab  Kubernetes API https://127.0.0.1:6443 (context homelab) unreachable:',
      '                                ECONNREFUSED',
      '           Check it: kubectl --context homelab cluster-info',
      '         not checked because of kube-api: rollout-services, self-rbac (2)',
      '',
      'Rollout shop/web',
      'FAIL     rollout-pods  rollout-pods shop/web is fail',
      '         $ kubectl get thing shop/web',
      '',
      'Rollout shop/web',
      'WARN     endpoint      litellm  endpoint litellm is warn',
      '         $ kubectl get thing litellm',
      '',
      'controller-pods: 1 ok',
      'rollout-status: 1 ok, 1 muted',
      '',
    ]);
  });

  it('puts the preamble between the count line and the table', () => {
    const lines = renderTextView(DOC, NOW, { width: 100, preamble: ['INCIDENT shop/web: canary aborted 3 min ago'] }).split('\n');
    expect(lines.slice(0, 3)).toEqual([expect.stringMatching(/^1 fail, /), 'INCIDENT shop/web: canary aborted 3 min ago', '']);
  });

  it('then the incidents, cause -> effect, wrapped to the width with a hanging indent', () => {
    const incident = (status: HealthBody['incidents'][number]['status'], summary: string) => ({ id: '0123456789ab', status, root: { check: 'rollout-pods', target: 'shop/web' }, summary, effects: [], since: CHECKED_AT, remediation: [] });
    const one = { ...DOC, incidents: [incident('fail', 'pods of Rollout shop/web not starting (ImagePullBackOff) -> Rollout shop/web Degraded (ProgressDeadlineExceeded)')] };
    const oneLines = renderTextView(one, NOW, { width: 60 }).split('\n');
    // The count line wraps too at 60 columns; the incidents follow it.
    expect(oneLines.slice(oneLines.indexOf('1 incident: pods of Rollout shop/web not starting'), oneLines.indexOf('1 incident: pods of Rollout shop/web not starting') + 4)).toEqual([
      '1 incident: pods of Rollout shop/web not starting',
      '  (ImagePullBackOff) -> Rollout shop/web Degraded',
      '  (ProgressDeadlineExceeded)',
      '',
    ]);
    const two = { ...DOC, incidents: [...one.incidents, incident('recovering', 'recovered: controller crash-looping; still catching up: Rollout shop/api not progressing')] };
    const text = renderTextView(two, NOW, { width: 60 });
    const lines = text.split('\n');
    expect(lines.slice(lines.indexOf('2 incidents:'), lines.indexOf('2 incidents:') + 7)).toEqual([
      '2 incidents:',
      '  FAIL  pods of Rollout shop/web not starting',
      '        (ImagePullBackOff) -> Rollout shop/web Degraded',
      '        (ProgressDeadlineExceeded)',
      '  RECOVERING  recovered: controller crash-looping; still',
      '              catching up: Rollout shop/api not progressing',
      '',
    ]);
    expect(Math.max(...text.split('\n').map((line) => stringWidth(line)))).toBeLessThanOrEqual(60);
  });

  it('verbose lists every result: ok rows, each pointer, muted rows with their reason', () => {
    const text = renderTextView(DOC, NOW, { width: 120, verbose: true });
    expect(text).toContain('\nok       controller-pods   argo-rollouts/argo-rollouts  controller-pods argo-rollouts/argo-rollouts is ok\n');
    expect(text).toContain('\nUNKNOWN  self-rbac         core/services  not checked: the Kubernetes API is unreachable (see kube-api)\n');
    expect(text).toContain('\nRollout shop/muted\nFAIL     rollout-status    rollout-status shop/muted is fail\n         muted: maintenance window\n');
    expect(text).not.toContain('not checked because of');
    expect(text).not.toContain(': 1 ok');
  });

  it('in a Rollout block the Rollout itself is not named again; other targets are', () => {
    const text = renderTextView(DOC, NOW, { width: 100 });
    expect(text).toContain('Rollout shop/web\nFAIL     rollout-pods  rollout-pods shop/web is fail\n');
    expect(text).toContain('WARN     endpoint      litellm  endpoint litellm is warn\n');
  });

  it('colour and status symbols only when asked', () => {
    const colour = renderTextView(DOC, NOW, { width: 100, color: true });
    expect(colour).toContain('\u001b[31m✖ FAIL\u001b[0m');
    expect(colour).toContain('\u001b[35m? UNKNOWN\u001b[0m');
    expect(colour).toContain('\u001b[33m⚠ WARN\u001b[0m');
    const plain = renderTextView(DOC, NOW, { width: 100 });
    expect(plain).not.toMatch(/\u001b|✖|⚠/);
  });

  it('truncates long targets with …; a summary wraps beside its row with a hanging indent, or goes under it when long', () => {
    const target = `analysis-errors/${'x'.repeat(60)}`;
    const short: HealthBody = { ...DOC, checks: [entry('analysis-preflight', target, 'fail', { summary: 'word '.repeat(15).trim() })] };
    const lines = renderTextView(short, NOW, { width: 100 }).split('\n');
    expect(lines[2]).toMatch(/^FAIL {2}analysis-preflight {2}analysis-errors\/x{8}… {2}word word/);
    // The view counts `…` as one column without asking string-width; string-width agrees.
    expect(stringWidth('…')).toBe(1);
    const at = lines[2]!.indexOf('word');
    expect(lines[3]).toMatch(new RegExp(`^ {${at}}word`));
    const long: HealthBody = { ...DOC, checks: [entry('analysis-preflight', `analysis-errors/${'x'.repeat(40)}`, 'fail', { summary: 'word '.repeat(60).trim() })] };
    expect(renderTextView(long, NOW, { width: 100 }).split('\n').slice(2, 5)).toEqual([
      `FAIL  analysis-preflight  analysis-errors/${'x'.repeat(40)}`,
      `      ${'word '.repeat(19).trim()}`,
      `      ${'word '.repeat(19).trim()}`,
    ]);
  });

  it.each([40, 80, 100, 160])('no line is longer than %i columns, whatever the text', (width) => {
    const wild: HealthBody = {
      ...DOC,
      checks: [
        ...DOC.checks,
        entry('rollout-status', `ns/${'r'.repeat(90)}`, 'fail', {
          summary: `漢字 🚀 ${'https://example.invalid/'.padEnd(150, 'p')} "quoted" ${'long '.repeat(30)}\nsecond line`,
          remediation: [`curl -sS 'https://example.invalid/${'q'.repeat(140)}'  # a comment that is long enough to wrap ${'c'.repeat(50)}`, `# Add this rule:\n  - apiGroups: [${'g'.repeat(120)}]`],
        }),
      ],
    };
    for (const options of [{ width }, { width, verbose: true }, { width, color: true }]) {
      expect(widest(renderTextView(wild, NOW, options))).toBeLessThanOrEqual(width);
    }
  });
});

describe('wrapping', () => {
  const COMMANDS = [
    "kubectl get analysisrun -n analysis-inconclusive -l rollouts-pod-template-hash=7f4c9b8d65 --sort-by=.metadata.creationTimestamp",
    `curl -s 'http://127.0.61.8:8428/api/v1/query' --data-urlencode 'query=sum(rate(missing_requests_total{code="500"}[1m])) / sum(rate(missing_requests_total[1m]))'`,
    `curl -sSIL https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-cilium/releases/download/v0.4.2/rollouts-plugin-trafficrouter-cilium-linux-amd64`,
    `kubectl logs -n argo-rollouts deploy/argo-rollouts --since=10m "it's a \\"quoted\\" $'thing' with spaces and a long tail ${'z'.repeat(70)}"`,
    `kubectl auth can-i create ciliumenvoyconfigs.cilium.io --as=system:serviceaccount:argo-rollouts:argo-rollouts -A 'sp ace'`,
  ];

  /** The arguments a POSIX shell reads from the text (no globbing, no expansion beyond quoting). */
  const argv = (text: string) => execFileSync('sh', ['-c', `set -f\nset -- ${text}\nfor a in "$@"; do printf '[%s]' "$a"; done`], { encoding: 'utf8' });

  it.each([24, 30, 45, 60, 80])('a command wrapped at %i columns is still the same command for sh, line by line within the width', (width) => {
    for (const command of COMMANDS) {
      const lines = wrapCommand(command, width, width - 4);
      expect(lines.length, command).toBeGreaterThan(1);
      lines.forEach((line, i) => expect(stringWidth(line), line).toBeLessThanOrEqual(i === 0 ? width : width - 4));
      expect(argv(lines.join('\n')), command).toBe(argv(command));
    }
  });

  it('a comment after a command moves to lines of its own, each a comment', () => {
    const lines = wrapCommand('kubectl argo rollouts abort litellm -n paused  # traffic back to stable, canary scaled down', 40);
    expect(lines).toEqual(['kubectl argo rollouts abort litellm -n \\', 'paused', '# traffic back to stable, canary scaled', '# down']);
  });

  it('wraps prose at spaces, keeps a line\'s leading spaces, cuts words longer than a line', () => {
    expect(wrapWords('  - apiGroups: [cilium.io] resources: [ciliumenvoyconfigs]', 30)).toEqual(['  - apiGroups: [cilium.io]', 'resources:', '[ciliumenvoyconfigs]']);
    expect(wrapWords('a'.repeat(25), 10)).toEqual(['a'.repeat(10), 'a'.repeat(10), 'a'.repeat(5)]);
    expect(wrapWords('one two\nthree', 80)).toEqual(['one two', 'three']);
  });
});

describe('terminalOptions', () => {
  it('takes the width from COLUMNS, else the terminal, else 100', () => {
    expect(terminalOptions({ write: () => true, isTTY: true, columns: 132 }, { COLUMNS: '90' }, false).width).toBe(90);
    expect(terminalOptions({ write: () => true, isTTY: true, columns: 132 }, {}, false).width).toBe(132);
    expect(terminalOptions({ write: () => true }, {}, false).width).toBe(100);
  });

  it('colours a terminal unless NO_COLOR is set (an empty NO_COLOR does not count), never a pipe', () => {
    const tty = { write: () => true, isTTY: true, columns: 80 };
    expect(terminalOptions(tty, {}, false).color).toBe(true);
    expect(terminalOptions(tty, { NO_COLOR: '1' }, false).color).toBe(false);
    expect(terminalOptions(tty, { NO_COLOR: '' }, false).color).toBe(true);
    expect(terminalOptions({ write: () => true }, {}, false).color).toBe(false);
  });
});
