/** Reading grafana/rollout-doctor.json for the dashboard tests: its panels, targets and variables. */
import { readFileSync } from 'node:fs';
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/schema';
import { DASHBOARD_FILE, type PrometheusQuery } from '../../grafana/dashboard.js';

/** `label_values(<selector>, <label>)`, the form the Prometheus datasource's variable editor writes. */
export const LABEL_VALUES = /^label_values\((?:(\w+(?:\{[^}]*\})?), )?(\w+)\)$/;

export function loadDashboard(): { text: string; dashboard: Dashboard } {
  const text = readFileSync(DASHBOARD_FILE, 'utf8');
  return { text, dashboard: JSON.parse(text) as Dashboard };
}

export function dashboardPanels(dashboard: Dashboard): Array<Panel | RowPanel> {
  return (dashboard.panels ?? []) as Array<Panel | RowPanel>;
}

/** Every target of every panel, with its panel. */
export function dashboardTargets(dashboard: Dashboard): { panel: Panel; target: PrometheusQuery }[] {
  return dashboardPanels(dashboard)
    .filter((p): p is Panel => p.type !== 'row')
    .flatMap((panel) => ((panel.targets ?? []) as PrometheusQuery[]).map((target) => ({ panel, target })));
}

export function dashboardVariables(dashboard: Dashboard): VariableModel[] {
  return (dashboard.templating?.list ?? []) as VariableModel[];
}
