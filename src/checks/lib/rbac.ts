/**
 * RBAC as the RBAC checks report it: targets named `<apiGroup>/<resource>` (`core` for the core
 * group) and the rules to add, rendered as YAML an operator can paste into a (Cluster)Role.
 */
import { Document, isSeq, visit } from 'yaml';
import { type RemediationStep, text } from '../../engine/remediation.js';

export interface RuleToAdd {
  /** API group, '' for core. */
  group: string;
  /** REST plural, possibly with a subresource (`pods/log`). */
  resource: string;
  verbs: readonly string[];
}

/** `cilium.io/ciliumenvoyconfigs`, `core/pods/log`. */
export function rbacTarget(group: string, resource: string): string {
  return `${group || 'core'}/${resource}`;
}

/** `ciliumenvoyconfigs.cilium.io`, `pods/log`: how the resource reads in a sentence. */
export function qualifiedResource(group: string, resource: string): string {
  if (!group) return resource;
  const [plural, ...sub] = resource.split('/');
  return [`${plural}.${group}`, ...sub].join('/');
}

/** Splits `pods/log` into the resource and subresource an access review takes. */
export function splitSubresource(resource: string): { resource: string; subresource?: string } {
  const slash = resource.indexOf('/');
  return slash === -1 ? { resource } : { resource: resource.slice(0, slash), subresource: resource.slice(slash + 1) };
}

/**
 * The rules as YAML lines (one remediation line each, so the text view keeps the indentation),
 * list items with flow-style lists: `- apiGroups: [cilium.io]`.
 */
export function ruleYamlLines(rules: readonly RuleToAdd[], indent = 2): RemediationStep[] {
  const doc = new Document(rules.map((rule) => ({ apiGroups: [rule.group], resources: [rule.resource], verbs: [...rule.verbs] })));
  visit(doc, {
    Seq(_, node, path) {
      if (path.length > 1 && isSeq(node)) node.flow = true;
    },
  });
  const pad = ' '.repeat(indent);
  return doc
    .toString({ flowCollectionPadding: false })
    .trimEnd()
    .split('\n')
    .map((line) => text(pad + line));
}
