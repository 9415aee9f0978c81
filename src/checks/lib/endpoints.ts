/**
 * The configured endpoints seen from the rollout side: which ones serve a Rollout, and the runbook's
 * curl for them with the token shown as where it comes from (`$LITELLM_KEY`), never its value.
 */
import type { Config, EndpointConfig } from '../../config/schema.js';
import { type Command, command, shell, type Word } from '../../engine/remediation.js';
import { redactUrl } from '../../log.js';

/** Endpoints whose `rollout` is `<namespace>/<name>`. */
export function endpointsOfRollout(config: Config, target: string): EndpointConfig[] {
  return config.endpoints.filter((endpoint) => endpoint.rollout === target);
}

export interface CurlOptions {
  /** curl's own flags (`-sS`). */
  flags?: readonly string[];
  /** A token file that cannot be read is shown as `$TOKEN`, not as `$(cat <file>)`. */
  isTokenFileReadable?: boolean;
}

/** `curl <url> -H "Authorization: Bearer $LITELLM_KEY"`, as the runbook writes it: the token's source, never its value. */
export function curlFor(endpoint: EndpointConfig, options: CurlOptions = {}): Command {
  const argv: Word[] = ['curl', ...(options.flags ?? [])];
  if (endpoint.method !== 'GET') argv.push('-X', endpoint.method);
  argv.push(redactUrl(endpoint.url));
  const token = endpoint.bearerToken;
  if (token) {
    const shown = token.env ? `$${token.env}` : options.isTokenFileReadable === false ? '$TOKEN' : `$(cat ${token.file})`;
    argv.push('-H', shell(`"Authorization: Bearer ${shown}"`));
  }
  if (!endpoint.tlsVerify) argv.push('-k');
  return command(argv);
}
