/**
 * The configured endpoints seen from the rollout side: which ones serve a Rollout, and the runbook's
 * curl for them with the token shown as where it comes from (`$LITELLM_KEY`), never its value.
 */
import type { Config, EndpointConfig } from '../../config/schema.js';
import { redactUrl } from '../../log.js';

/** Endpoints whose `rollout` is `<namespace>/<name>`. */
export function endpointsOfRollout(config: Config, target: string): EndpointConfig[] {
  return config.endpoints.filter((endpoint) => endpoint.rollout === target);
}

/** `curl <url> -H "Authorization: Bearer $LITELLM_KEY"`, as the runbook writes it. */
export function curlFor(endpoint: EndpointConfig): string {
  const parts = ['curl'];
  if (endpoint.method !== 'GET') parts.push('-X', endpoint.method);
  parts.push(redactUrl(endpoint.url));
  if (endpoint.bearerToken) {
    const shown = endpoint.bearerToken.env ? `$${endpoint.bearerToken.env}` : `$(cat ${endpoint.bearerToken.file})`;
    parts.push('-H', `"Authorization: Bearer ${shown}"`);
  }
  if (!endpoint.tlsVerify) parts.push('-k');
  return parts.join(' ');
}
