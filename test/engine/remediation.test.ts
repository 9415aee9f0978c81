/**
 * Remediation steps rendered once (src/engine/remediation.ts): quoting in one place, `kubectlContext`
 * placed where kubectl accepts it, commands inside prose rendered like the others.
 */
import { describe, expect, it } from 'vitest';
import { command, doubleQuoted, kubectl, quoteWord, type RemediationStep, renderStep, shell, singleQuoted, text, uniqueSteps } from '../../src/engine/remediation.js';

describe('quoteWord', () => {
  it.each([
    ['litellm', 'litellm'],
    ['deploy/argo-rollouts', 'deploy/argo-rollouts'],
    ['--as=system:serviceaccount:argo-rollouts:argo-rollouts', '--as=system:serviceaccount:argo-rollouts:argo-rollouts'],
    ['rollouts-pod-template-hash=7f4c9b8d65', 'rollouts-pod-template-hash=7f4c9b8d65'],
    ['https://host/api?a=1&b=2', "'https://host/api?a=1&b=2'"],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ['', "''"],
  ])('%j -> %s', (value, expected) => {
    expect(quoteWord(value)).toBe(expected);
  });
});

describe('renderStep', () => {
  const promote = kubectl(['argo', 'rollouts', 'promote', 'litellm', '-n', 'litellm'], { comment: 'advance past the current pause' });
  const logs = kubectl(['logs', '-n', 'argo-rollouts', 'deploy/argo-rollouts', '--tail=20'], { pipe: ['grep', '-i', 'plugin'] });
  const cases: [string, RemediationStep, string, string][] = [
    ['a plain command', kubectl(['get', 'pods', '-n', 'shop']), 'kubectl get pods -n shop', 'kubectl get pods -n shop --context homelab'],
    ['a plugin command (global flags go last)', kubectl(['argo', 'rollouts', 'get', 'rollout', 'web', '-n', 'shop']), 'kubectl argo rollouts get rollout web -n shop', 'kubectl argo rollouts get rollout web -n shop --context homelab'],
    ['a comment', promote, 'kubectl argo rollouts promote litellm -n litellm  # advance past the current pause', 'kubectl argo rollouts promote litellm -n litellm --context homelab  # advance past the current pause'],
    ['a pipe', logs, 'kubectl logs -n argo-rollouts deploy/argo-rollouts --tail=20 | grep -i plugin', 'kubectl logs -n argo-rollouts deploy/argo-rollouts --tail=20 --context homelab | grep -i plugin'],
    [
      'shell words written as is and double quotes',
      kubectl(['get', 'rollout', 'web', '-n', 'shop', '-o', 'yaml'], { pipe: ['grep', '-A5', doubleQuoted('phase:')] }),
      'kubectl get rollout web -n shop -o yaml | grep -A5 "phase:"',
      'kubectl get rollout web -n shop -o yaml --context homelab | grep -A5 "phase:"',
    ],
    ['not kubectl', command(['curl', '-sS', 'http://127.0.0.1:8080/v1/models', '-H', shell('"Authorization: Bearer $LITELLM_KEY"')]), 'curl -sS http://127.0.0.1:8080/v1/models -H "Authorization: Bearer $LITELLM_KEY"', 'curl -sS http://127.0.0.1:8080/v1/models -H "Authorization: Bearer $LITELLM_KEY"'],
    ['single quotes kept', command(['curl', '-s', singleQuoted('http://127.0.0.1:9090/api/v1/query')]), "curl -s 'http://127.0.0.1:9090/api/v1/query'", "curl -s 'http://127.0.0.1:9090/api/v1/query'"],
    ['prose', text('# Add this rule to the ClusterRole:'), '# Add this rule to the ClusterRole:', '# Add this rule to the ClusterRole:'],
    [
      'a command inside prose',
      text('Fix what made it abort, then: ', kubectl(['argo', 'rollouts', 'retry', 'rollout', 'litellm', '-n', 'litellm'])),
      'Fix what made it abort, then: kubectl argo rollouts retry rollout litellm -n litellm',
      'Fix what made it abort, then: kubectl argo rollouts retry rollout litellm -n litellm --context homelab',
    ],
    ['a context already given', kubectl(['get', 'pods', '--context', 'other']), 'kubectl get pods --context other', 'kubectl get pods --context other'],
  ];

  it.each(cases)('%s', (_name, step, plain, withContext) => {
    expect(renderStep(step)).toBe(plain);
    expect(renderStep(step, { kubectlContext: 'homelab' })).toBe(withContext);
  });

  it('quotes a context name that needs it', () => {
    expect(renderStep(kubectl(['get', 'pods']), { kubectlContext: 'my cluster' })).toBe("kubectl get pods --context 'my cluster'");
  });

  it('drops repeated steps, keeping the first', () => {
    const get = kubectl(['get', 'svc', '-n', 'shop']);
    expect(uniqueSteps([get, text('x'), kubectl(['get', 'svc', '-n', 'shop']), text('x')]).map((s) => renderStep(s))).toEqual(['kubectl get svc -n shop', 'x']);
  });
});
