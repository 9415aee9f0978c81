/**
 * The text view in a terminal: `check --output table` once, and `check --watch`, which redraws it
 * every cycle in place until Ctrl-C, as `kubectl argo rollouts get rollout --watch` does (it clears
 * the screen with ESC[H ESC[2J before each frame: pkg/kubectl-argo-rollouts/cmd/get/get.go Clear,
 * v1.8.4).
 */
import type { HealthBody } from './http/health-schema.js';
import { DEFAULT_WIDTH, renderTextView, type TextViewOptions } from './http/text-view.js';
import { checkExitCode, type CheckExitCode, createRuntime, type RunOptions } from './main.js';

/** What the CLI writes to: a terminal or not (a pipe, a file). */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  on?(event: 'resize', listener: () => void): unknown;
}

/**
 * Width from COLUMNS, else the terminal's, else DEFAULT_WIDTH; colour and status symbols only on a
 * terminal, and never when NO_COLOR is set to anything but the empty string (no-color.org).
 */
export function terminalOptions(out: Output, env: NodeJS.ProcessEnv, verbose: boolean): TextViewOptions {
  const fromEnv = Number(env.COLUMNS);
  const width = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : out.isTTY && out.columns ? out.columns : DEFAULT_WIDTH;
  return { width, verbose, color: Boolean(out.isTTY) && !env.NO_COLOR };
}

const CLEAR = '\u001b[H\u001b[2J';

/**
 * `check --watch`: runs the checks on the config's schedule and redraws the text view after every
 * cycle (and every second on a terminal, so that "checked N s ago" counts) until `stop` resolves
 * (SIGINT, SIGTERM). On a terminal each frame replaces the last; elsewhere frames follow one another,
 * a blank line apart. Resolves with the exit code of the last frame, as `check` would exit on it.
 */
export async function watchChecks(options: RunOptions, out: Output, env: NodeJS.ProcessEnv, verbose: boolean, stop: Promise<unknown>): Promise<CheckExitCode> {
  const runtime = await createRuntime({ ...options, logLevel: options.logLevel ?? 'warn' });
  let body: HealthBody | undefined;
  let frames = 0;
  const draw = () => {
    if (!body) return;
    const text = renderTextView(body, runtime.health.nowMs(), terminalOptions(out, env, verbose));
    out.write(out.isTTY ? `${CLEAR}${text}` : `${frames > 0 ? '\n' : ''}${text}`);
    frames++;
  };
  runtime.daemon.subscribe((event) => {
    if (event.type !== 'cycle') return;
    body = runtime.health.health().body;
    draw();
  });
  const ticker = out.isTTY ? setInterval(draw, 1000) : undefined;
  out.on?.('resize', draw);
  runtime.daemon.start();
  try {
    await stop;
  } finally {
    if (ticker) clearInterval(ticker);
    await runtime.close();
  }
  return checkExitCode(body ?? runtime.health.health().body);
}
