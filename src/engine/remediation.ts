/**
 * Remediation commands copied from a multi-cluster dashboard must hit the right cluster: with
 * `kubectlContext` set, every kubectl invocation in a remediation line gets `--context <name>`.
 * It goes at the end of the kubectl segment (before a pipe or a comment) because kubectl refuses
 * global flags placed before a plugin name (`kubectl argo rollouts ...`).
 */

function quote(value: string): string {
  return /^[A-Za-z0-9@%_+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function withKubectlContext(line: string, context: string | undefined): string {
  if (!context) return line;
  const commentAt = line.search(/\s#/);
  const command = commentAt >= 0 ? line.slice(0, commentAt) : line;
  const comment = commentAt >= 0 ? line.slice(commentAt) : '';
  if (line.trimStart().startsWith('#')) return line;
  const parts = command.split(/(\s*(?:\|\||&&|\||;)\s*)/);
  const rewritten = parts.map((part) => {
    if (!/^\s*kubectl\s/.test(part) || /\s--context(=|\s)/.test(part)) return part;
    const trailing = /\s*$/.exec(part)?.[0] ?? '';
    return `${part.slice(0, part.length - trailing.length)} --context ${quote(context)}${trailing}`;
  });
  return rewritten.join('') + comment;
}
