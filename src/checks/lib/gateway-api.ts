/**
 * Remediation for a Cilium traffic-router plugin that cannot be downloaded: none was ever
 * published (Argo Rollouts' docs/features/traffic-management/plugins.md lists none; Cilium is
 * routed through the Gateway API plugin, whose docs and examples/cilium cover it), so the step that
 * fixes the 404 is moving to `argoproj-labs/gatewayAPI`: its ConfigMap entry and the RBAC its
 * installation docs give.
 */
import { GATEWAY_API_GROUP, GATEWAY_API_PLUGIN, GATEWAY_API_REPOSITORY, gatewayApiLocation, NEWEST_GATEWAY_API_RELEASE } from '../../argo/gateway-api.js';
import { type RemediationStep, text } from '../../engine/remediation.js';
import { isCiliumPlugin } from '../../argo/plugins.js';
import { ruleYamlLines } from './rbac.js';

/** The steps for a Cilium plugin whose download answered 404 (v1.8.0+: `response code Not Found`); none for anything else. */
export function ciliumDownload404Steps(plugin: string, failure: string, ciliumLocation: string | undefined, configMapRef: string): RemediationStep[] {
  if (!isCiliumPlugin(plugin) || !failure.includes('response code Not Found')) return [];
  const arch = ciliumLocation?.includes('arm64') ? 'arm64' : 'amd64';
  return [
    text(
      `# No Cilium traffic-router plugin is published: the maintained route for Cilium is the Gateway API plugin (${GATEWAY_API_REPOSITORY}, on Cilium's Gateway API support). Under trafficRouterPlugins in ${configMapRef}:`,
    ),
    text(`  - name: ${GATEWAY_API_PLUGIN}`),
    text(`    location: ${gatewayApiLocation(NEWEST_GATEWAY_API_RELEASE, arch)}`),
    text("# and grant the controller's service account (the plugin's docs/installation.md, Permissions):"),
    ...ruleYamlLines([
      { group: '', resource: 'services', verbs: ['get'] },
      { group: GATEWAY_API_GROUP, resource: 'httproutes', verbs: ['get', 'list', 'update', 'patch'] },
    ]),
    text(`# then route each Rollout through an HTTPRoute naming its stable and canary Services: trafficRouting.plugins: {"${GATEWAY_API_PLUGIN}": {httpRoute: <route>, namespace: <namespace>}}`),
  ];
}
