/**
 * The runbook's commands that several checks give, built once with the real names filled in
 * (src/engine/remediation.ts renders them, quoting and `--context` included).
 */
import { POD_TEMPLATE_HASH_LABEL } from '../../argo/names.js';
import { type Command, type CommandOptions, doubleQuoted, kubectl, type Word } from '../../engine/remediation.js';

/** `-l rollouts-pod-template-hash` (any revision), or `=<hash>` for one. */
function hashSelector(hash: string | undefined): string {
  return hash ? `${POD_TEMPLATE_HASH_LABEL}=${hash}` : POD_TEMPLATE_HASH_LABEL;
}

/** `kubectl argo rollouts <verb...> <name> -n <namespace> [extra...]`. */
export function argoRollouts(verb: string, namespace: string, name: string, extra: readonly Word[] = [], options: CommandOptions = {}): Command {
  return kubectl(['argo', 'rollouts', ...verb.split(' '), name, '-n', namespace, ...extra], options);
}

/** `kubectl get rollout <name> -n <ns> -o yaml | grep -A5 "phase:"`: the controller's own verdict. */
export function rolloutPhaseYaml(namespace: string, name: string): Command {
  return kubectl(['get', 'rollout', name, '-n', namespace, '-o', 'yaml'], { pipe: ['grep', '-A5', doubleQuoted('phase:')] });
}

/** `kubectl get rs -n <ns> -l rollouts-pod-template-hash`: every revision's ReplicaSet. */
export function replicaSetsByHash(namespace: string): Command {
  return kubectl(['get', 'rs', '-n', namespace, '-l', POD_TEMPLATE_HASH_LABEL]);
}

/** `kubectl describe pod -n <ns> -l rollouts-pod-template-hash[=<hash>]`. */
export function describePodsByHash(namespace: string, hash: string | undefined): Command {
  return kubectl(['describe', 'pod', '-n', namespace, '-l', hashSelector(hash)]);
}

/** `kubectl get analysisrun -n <ns> -l rollouts-pod-template-hash[=<hash>] --sort-by=... | tail -3`: the newest runs. */
export function recentAnalysisRuns(namespace: string, hash: string | undefined): Command {
  return kubectl(['get', 'analysisrun', '-n', namespace, '-l', hashSelector(hash), '--sort-by=.metadata.creationTimestamp'], { pipe: ['tail', '-3'] });
}

/** `kubectl logs -n <ns> <pod> [-c <container>] [--previous] --tail=50`: a crashed container's last words. */
export function podLogs(namespace: string, pod: string, container: string | undefined, isPrevious: boolean): Command {
  return kubectl(['logs', '-n', namespace, pod, ...(container ? ['-c', container] : []), ...(isPrevious ? ['--previous'] : []), '--tail=50']);
}

/** `kubectl logs -n <ns> deploy/<name> [flags...] [| grep -i <pattern>]`: the controller's log. */
export function deploymentLogs(namespace: string, deployment: string, flags: readonly Word[], grep?: Word): Command {
  return kubectl(['logs', '-n', namespace, `deploy/${deployment}`, ...flags], grep === undefined ? {} : { pipe: ['grep', '-i', grep] });
}

/** The runbook's controller log check: `kubectl logs -n <ns> deploy/<name> --tail=20 | grep -i plugin`. */
export function controllerPluginLog(namespace: string, deployment: string): Command {
  return deploymentLogs(namespace, deployment, ['--tail=20'], 'plugin');
}

/** `kubectl rollout restart deploy/<name> -n <ns>`: the controller reads its plugins only at startup. */
export function restartDeployment(namespace: string, deployment: string): Command {
  return kubectl(['rollout', 'restart', `deploy/${deployment}`, '-n', namespace]);
}

/** `kubectl get configmap <name> -n <ns> -o yaml`. */
export function configMapYaml(namespace: string, name: string): Command {
  return kubectl(['get', 'configmap', name, '-n', namespace, '-o', 'yaml']);
}

/** `kubectl get pods -n <ns>`. */
export function listPods(namespace: string): Command {
  return kubectl(['get', 'pods', '-n', namespace]);
}
