/**
 * grafana/rollout-doctor.json: rendered from grafana/dashboard.ts (typed against @grafana/schema),
 * and structurally sound: unique panel ids, panels inside the 24-column grid that do not overlap,
 * every target through the `datasource` variable and filtered on `$cluster`, variables whose queries
 * are well-formed `label_values` over earlier variables only, and the rows the issue asks for. That
 * every query returns data from a real Prometheus is prometheus-e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Panel, RowPanel } from '@grafana/schema';
import { type PrometheusQuery, renderDashboard } from '../../grafana/dashboard.js';
import { dashboardPanels, dashboardVariables, LABEL_VALUES, loadDashboard } from './grafana.js';

const { text, dashboard } = loadDashboard();
const panels = dashboardPanels(dashboard);
const isRow = (panel: Panel | RowPanel): panel is RowPanel => panel.type === 'row';
const contentPanels = panels.filter((p) => !isRow(p)) as Panel[];
const variables = dashboardVariables(dashboard);

describe('grafana/rollout-doctor.json', () => {
  it('is grafana/dashboard.ts rendered (run npm run grafana:render after editing it)', () => {
    expect(text, 'stale: run npm run grafana:render').toBe(renderDashboard());
  });

  it('has unique panel ids', () => {
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lays every panel inside 24 columns without overlaps', () => {
    const boxes = panels.map((p) => ({ title: p.title, ...p.gridPos! }));
    for (const box of boxes) {
      expect(box.x >= 0 && box.y >= 0 && box.w > 0 && box.h > 0 && box.x + box.w <= 24, `${box.title} ${JSON.stringify(box)}`).toBe(true);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlaps = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlaps, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it('queries only through the datasource variable, every target filtered on $cluster, unique refIds', () => {
    for (const panel of contentPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      const targets = (panel.targets ?? []) as PrometheusQuery[];
      expect(targets.length, panel.title).toBeGreaterThan(0);
      expect(new Set(targets.map((t) => t.refId)).size, panel.title).toBe(targets.length);
      for (const target of targets) {
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(target.expr, `${panel.title} ${target.refId}`).toContain('cluster=~"$cluster"');
        // Instance labels are aggregated away, except in the per-process panels.
        if (!/process_|nodejs_/.test(target.expr)) expect(target.expr, `${panel.title} ${target.refId}`).toMatch(/\b(max|min|sum|count|topk)\b/);
      }
      expect(panel.title && panel.description, `panel ${panel.id} needs a title and a description`).toBeTruthy();
    }
  });

  it('has a prometheus datasource variable and cluster, namespace, rollout variables with valid queries', () => {
    expect(variables.map((v) => v.name)).toEqual(['datasource', 'cluster', 'namespace', 'rollout']);
    const [datasource, ...queries] = variables;
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const [index, variable] of queries.entries()) {
      expect(variable.type).toBe('query');
      expect(variable.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(variable).toMatchObject({ includeAll: true, allValue: '.*', multi: true });
      const query = String(variable.query);
      const match = LABEL_VALUES.exec(query);
      expect(match, `${variable.name}: ${query}`).not.toBeNull();
      expect(match![2]).toBe(variable.name);
      // Only variables defined before this one.
      const used = [...query.matchAll(/\$(\w+)/g)].map((m) => m[1]);
      expect(used.every((name) => variables.slice(1, index + 1).some((v) => v.name === name)), `${variable.name} uses ${used.join(', ')}`).toBe(true);
    }
  });

  it('has the rows for overall state, checks, rollouts, analysis, endpoints, controller, plugins and RBAC, rollout-doctor', () => {
    expect(panels.filter(isRow).map((r) => r.title)).toEqual([
      'Overall state',
      'Check results',
      'Rollouts',
      'Rollout resources',
      'Analysis',
      'Endpoints',
      'Argo Rollouts controller',
      'Plugins and RBAC',
      'rollout-doctor',
    ]);
    const titles = contentPanels.map((p) => p.title);
    for (const title of ['Failing checks', 'Warning checks', 'Unknown checks', 'Last cycle age', 'Check status', 'Rollout phase', 'Canary weight: set vs actual', 'Inconclusive measurements vs limit', 'Consecutive errors vs limit', 'Endpoint up', 'Endpoint latency', 'Controller readiness', 'Controller restarts', 'Plugins', 'Controller permissions for its plugins', 'Cycle duration', 'Kubernetes API errors']) {
      expect(titles).toContain(title);
    }
    expect(contentPanels.find((p) => p.title === 'Rollout phase')?.type).toBe('state-timeline');
  });
});
