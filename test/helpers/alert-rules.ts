/**
 * The alert rules as the tests read them: the source file's groups, and where each alert's
 * runbook_url must point (its section of docs/alerts.md in this repository, on the branch the Argo
 * CD Application deploys).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SOURCE_FILE } from '../../deploy/alerts/render.js';
import { REPO, slug } from './markdown.js';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroups {
  groups: { name: string; rules: AlertRule[] }[];
}

export function loadRules(): RuleGroups {
  return parse(readFileSync(SOURCE_FILE, 'utf8')) as RuleGroups;
}

export function loadAlerts(): AlertRule[] {
  return loadRules().groups.flatMap((g) => g.rules);
}

/** `https://github.com/<owner>/<repo>/blob/<revision>/`: links into this repository from outside it. */
export function repositoryBlobUrl(): string {
  const application = parse(readFileSync(path.join(REPO, 'deploy', 'argocd-application.yaml'), 'utf8')) as { spec: { source: { repoURL: string; targetRevision: string } } };
  return `${application.spec.source.repoURL.replace(/\.git$/, '')}/blob/${application.spec.source.targetRevision}/`;
}

export const ALERTS_DOC = 'docs/alerts.md';

/** The runbook_url an alert must carry: its own section of docs/alerts.md. */
export function expectedRunbookUrl(alert: string): string {
  return `${repositoryBlobUrl()}${ALERTS_DOC}#${slug(alert)}`;
}
