/**
 * Remediation steps as data, rendered once. A check builds its steps with `kubectl(...)`,
 * `command(...)` and `text(...)`; the runner renders them to the strings /health shows, applying
 * `kubectlContext` there: every kubectl invocation gets `--context <name>` at the end of its
 * arguments (before a pipe or a comment), because kubectl refuses global flags placed before a
 * plugin name (`kubectl argo rollouts ...`). Values are quoted for a POSIX shell here and only here.
 */

/** Shell syntax the check writes itself (a double-quoted pattern, `$VAR`), rendered as is. */
export interface ShellWord {
  readonly shell: string;
}

/** A word of a command line: a value (quoted when the shell needs it) or shell syntax. */
export type Word = string | ShellWord;

export interface Command {
  readonly kind: 'command';
  /** The program and its arguments. */
  readonly argv: readonly Word[];
  /** A command the output is piped into (`grep -i plugin`). */
  readonly pipe?: readonly Word[];
  /** Shown after the command as `  # comment`. */
  readonly comment?: string;
}

/** Prose, possibly with commands in it (`Fix ..., then: kubectl rollout restart ...`). */
export interface TextStep {
  readonly kind: 'text';
  readonly parts: readonly (string | Command)[];
}

export type RemediationStep = Command | TextStep;

export interface CommandOptions {
  pipe?: readonly Word[];
  comment?: string;
}

export function command(argv: readonly Word[], options: CommandOptions = {}): Command {
  return { kind: 'command', argv, ...options };
}

/** `kubectl <args>`: the command `kubectlContext` applies to. */
export function kubectl(args: readonly Word[], options: CommandOptions = {}): Command {
  return command(['kubectl', ...args], options);
}

/** A step of prose; commands among the parts are rendered (and get the context) like any other. */
export function text(...parts: (string | Command)[]): TextStep {
  return { kind: 'text', parts };
}

/** Shell syntax written as is. */
export function shell(syntax: string): ShellWord {
  return { shell: syntax };
}

/** A value in double quotes (`grep -A5 "phase:"`), `\`, `"`, `$` and backquotes escaped. */
export function doubleQuoted(value: string): ShellWord {
  return { shell: `"${value.replace(/[\\"$`]/g, '\\$&')}"` };
}

/** A value in single quotes even where the shell would not need them (a URL copied into a curl). */
export function singleQuoted(value: string): ShellWord {
  return { shell: `'${value.replace(/'/g, `'\\''`)}'` };
}

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9@%_+=:,./-]+$/;

/** A value as one shell word: as is when it can be, else single-quoted. */
export function quoteWord(value: string): string {
  return SAFE_WORD.test(value) ? value : singleQuoted(value).shell;
}

function renderWord(word: Word): string {
  return typeof word === 'string' ? quoteWord(word) : word.shell;
}

export interface RenderOptions {
  /** The kubectl context every kubectl command gets (`kubectlContext` in the config). */
  kubectlContext?: string;
}

const hasContextFlag = (argv: readonly Word[]) => argv.some((w) => typeof w === 'string' && (w === '--context' || w.startsWith('--context=')));

export function renderCommand(cmd: Command, options: RenderOptions = {}): string {
  const argv = options.kubectlContext && cmd.argv[0] === 'kubectl' && !hasContextFlag(cmd.argv) ? [...cmd.argv, '--context', options.kubectlContext] : cmd.argv;
  let line = argv.map(renderWord).join(' ');
  if (cmd.pipe) line += ` | ${cmd.pipe.map(renderWord).join(' ')}`;
  if (cmd.comment) line += `  # ${cmd.comment}`;
  return line;
}

export function renderStep(step: RemediationStep, options: RenderOptions = {}): string {
  if (step.kind === 'command') return renderCommand(step, options);
  return step.parts.map((part) => (typeof part === 'string' ? part : renderCommand(part, options))).join('');
}

/** The steps without repeats (as rendered), first occurrence kept. */
export function uniqueSteps(steps: readonly RemediationStep[]): RemediationStep[] {
  const seen = new Set<string>();
  return steps.filter((step) => {
    const key = renderStep(step);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
