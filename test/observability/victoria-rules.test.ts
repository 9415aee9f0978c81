/**
 * Every shipped variant of the alert rules against the real vmalert (Debian's victoria-metrics, 1.79
 * in CI): `vmalert -dryRun -rule=FILE` on the groups of each (taken out of the VMRule and
 * PrometheusRule first), which parses them, validates every expression with the MetricsQL parser and
 * every annotation template.
 *
 * - The variants without keep_firing_for (rollout-doctor.compat.rules.yaml, the vmalert-compat
 *   component's VMRule) load; they are the source's groups less that field.
 * - The variants with it (the source, the base's VMRule, the PrometheusRule) load on a vmalert that
 *   knows the field (v1.92.0 and later); on an older one the field is the only thing it rejects, and
 *   the same groups less the field load.
 * - `kubectl kustomize` of the base plus components/vmalert-compat renders the base with that VMRule
 *   swapped in, and nothing else changed.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { COMPAT_COMPONENT_DIR, RULE_VARIANTS, type RuleVariant, SOURCE_FILE, withoutKeepFiringFor } from '../../deploy/alerts/render.js';
import { DEPLOY_DIR, findKubectl, findObject, type KubeObject, REPO, renderKustomize } from '../deploy/helpers.js';
import { validateObject } from '../deploy/validate.js';
import { requireVictoriaMetrics, vmalertDryRun } from '../helpers/victoria-metrics.js';

const vmalert = requireVictoriaMetrics('vmalert', 'the vmalert dry runs of the shipped alert rules');
const kubectl = findKubectl();

type Groups = { name: string; rules: Record<string, unknown>[] }[];

function variantGroups(variant: RuleVariant): Groups {
  const parsed = parse(readFileSync(variant.file, 'utf8')) as { groups?: Groups; spec?: { groups: Groups } };
  return (variant.kind === 'rules' ? parsed.groups : parsed.spec?.groups) ?? [];
}

const sourceGroups = (parse(readFileSync(SOURCE_FILE, 'utf8')) as { groups: Groups }).groups;
const name = (variant: RuleVariant) => `${path.relative(REPO, variant.file)} (${variant.kind})`;

describe.skipIf(!vmalert)('the shipped alert rules on the real vmalert', () => {
  let knowsKeepFiringFor = false;

  beforeAll(() => {
    const probe = vmalertDryRun(vmalert!, stringify({ groups: [{ name: 'probe', rules: [{ alert: 'Probe', expr: 'vector(1)', keep_firing_for: '5m' }] }] }));
    knowsKeepFiringFor = probe.ok;
    if (!probe.ok) expect(probe.output).toContain('unknown fields in rule: keep_firing_for');
  });

  it('rejects what it should: the dry run validates expressions and templates', () => {
    const badExpr = vmalertDryRun(vmalert!, stringify({ groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'sum(rate(x[5m])' }] }] }));
    expect(badExpr.ok).toBe(false);
    expect(badExpr.output).toContain('invalid expression');
    const badTemplate = vmalertDryRun(vmalert!, stringify({ groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', annotations: { summary: '{{ $labels.x | nosuchfunction }}' } }] }] }));
    expect(badTemplate.ok).toBe(false);
    expect(badTemplate.output).toContain('invalid annotations');
  });

  it.each(RULE_VARIANTS.filter((v) => !v.keepFiringFor).map((v) => [name(v), v] as const))('%s: the source groups without keep_firing_for, loaded by vmalert', (_, variant) => {
    const groups = variantGroups(variant);
    expect(groups).toEqual(withoutKeepFiringFor(sourceGroups));
    const result = vmalertDryRun(vmalert!, stringify({ groups }));
    expect(result.output).not.toMatch(/fatal|error/i);
    expect(result.ok, result.output).toBe(true);
  });

  it.each(RULE_VARIANTS.filter((v) => v.keepFiringFor).map((v) => [name(v), v] as const))('%s: loaded by a vmalert that knows keep_firing_for; the only field an older one rejects', (_, variant) => {
    const groups = variantGroups(variant);
    expect(groups).toEqual(sourceGroups);
    const result = vmalertDryRun(vmalert!, stringify({ groups }));
    expect(result.ok, result.output).toBe(knowsKeepFiringFor);
    if (!knowsKeepFiringFor) {
      // Every complaint names keep_firing_for (vmalert reports the first bad rule of each group).
      const complaints = result.output.split('\n').filter((line) => /invalid (group|rule)/.test(line));
      expect(complaints.length).toBe(groups.length);
      for (const line of complaints) expect(line).toMatch(/unknown fields in rule: keep_firing_for$/);
      const less = vmalertDryRun(vmalert!, stringify({ groups: withoutKeepFiringFor(groups) }));
      expect(less.ok, less.output).toBe(true);
    }
  });
});

describe.runIf(kubectl)('kubectl kustomize with components/vmalert-compat', () => {
  let base: KubeObject[];
  let objects: KubeObject[];
  beforeAll(() => {
    base = renderKustomize(kubectl!, DEPLOY_DIR);
    objects = renderKustomize(kubectl!, path.join(REPO, 'test', 'deploy', 'vmalert-compat'));
  });

  it('swaps in the VMRule without keep_firing_for and leaves every other object as the base has it', () => {
    const isRule = (o: KubeObject) => o.kind === 'VMRule';
    expect(objects.filter((o) => !isRule(o))).toEqual(base.filter((o) => !isRule(o)));
    const rule = findObject(objects, 'VMRule', 'rollout-doctor', 'rollout-doctor') as KubeObject & { spec: { groups: Groups } };
    const { spec: _baseSpec, ...baseRuleRest } = findObject(base, 'VMRule', 'rollout-doctor', 'rollout-doctor');
    const { spec, ...ruleRest } = rule;
    expect(ruleRest).toEqual(baseRuleRest);
    expect(spec.groups).toEqual(withoutKeepFiringFor(sourceGroups));
    expect(validateObject(rule)).toEqual([]);
    expect(JSON.stringify(spec)).not.toContain('keep_firing_for');
  });

  it.skipIf(!vmalert)('renders groups the real vmalert loads', () => {
    const rule = findObject(objects, 'VMRule', 'rollout-doctor', 'rollout-doctor') as KubeObject & { spec: { groups: Groups } };
    const result = vmalertDryRun(vmalert!, stringify({ groups: rule.spec.groups }));
    expect(result.ok, result.output).toBe(true);
  });

  it('is a component next to the patch it applies', () => {
    const kustomization = parse(readFileSync(path.join(COMPAT_COMPONENT_DIR, 'kustomization.yaml'), 'utf8')) as { kind: string; patches: { path: string }[] };
    expect(kustomization.kind).toBe('Component');
    expect(kustomization.patches).toEqual([{ path: 'vmrule.yaml' }]);
  });
});
