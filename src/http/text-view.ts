/**
 * The text view of /health, made for a terminal during an incident: `/health?format=text`,
 * `rollout-doctor check --output table` and `check --watch` print it.
 *
 *   2 fail, 1 unknown, 33 ok (checked 12 s ago, cycle 41 ms)      <- countLines (per request)
 *   <preamble: lines a caller puts between the count and the table>
 *   1 incident: plugin argoproj-labs/cilium cannot be downloaded (Not Found) -> controller
 *     crash-looping -> 2 Rollouts not progressing                  <- incidentLines
 *
 *   FAIL     controller-pods     argo-rollouts/argo-rollouts
 *            Controller pod argo-rollouts/argo-rollouts-7f9c6d5b48-x2k9s is CrashLoopBackOff ...
 *            $ kubectl get pods -n argo-rollouts
 *
 *   Rollout degraded/litellm
 *   FAIL     rollout-services    Rollout degraded/litellm: canary Service degraded/litellm-canary
 *                                (canaryService) does not exist (and 1 more problem)
 *
 *   controller-plugins: 2 ok
 *   self-rbac: 17 ok
 *
 * - Nothing goes past `width` columns (measured as a terminal shows them, string-width): a summary
 *   wraps beside its row with a hanging indent at the summary column when it fits in a few lines
 *   there, else it goes on the lines under its row; the target column is as wide as its longest
 *   value up to a share of the width, longer targets end in `…`; a remediation command wraps with
 *   shell line continuations, so that it still pastes as one command.
 * - Failing and unknown rows first, then warn; ok and muted results collapse to one line per check
 *   (`self-rbac: 17 ok`) unless `verbose`; results that only point at another one (`blockedBy`: not
 *   checked because kube-api or self-rbac explains why) collapse into one line under it.
 * - Results about a Rollout are grouped under it; a result about the Rollout itself leaves the target
 *   blank there instead of repeating its name.
 * - `color`: ANSI colours and the status symbols of kubectl argo rollouts (✔ ⚠ ✖ ?,
 *   pkg/kubectl-argo-rollouts/info/info.go, v1.8.4); without it plain text.
 */
import stringWidth from 'string-width';
import { STATUS_RANK, type Status } from '../engine/status.js';
import type { HealthBody, HealthEntry } from './health-schema.js';

export interface TextViewOptions {
  /** Terminal columns (clamped to MIN_WIDTH..MAX_WIDTH). */
  width: number;
  /** Every result on its own row, ok and muted included. */
  verbose?: boolean;
  /** ANSI colours and status symbols. */
  color?: boolean;
}

export const DEFAULT_WIDTH = 100;
export const MIN_WIDTH = 40;
export const MAX_WIDTH = 500;
/**
 * A summary goes beside its row when the columns leave it at least MIN_SUMMARY and it fits in
 * MAX_BESIDE_LINES there; a longer one goes under the row, where it has nearly the whole width.
 */
const MIN_SUMMARY = 30;
const MAX_BESIDE_LINES = 3;
/** The target column takes at most this share of the width (longer targets end in `…`). */
const TARGET_SHARE = 0.25;

const LABEL: Record<Status, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', unknown: 'UNKNOWN' };
const SYMBOL: Record<Status, string> = { ok: '✔', warn: '⚠', fail: '✖', unknown: '?' };
const COLOR: Record<Status, number> = { ok: 32, warn: 33, fail: 31, unknown: 35 };

export function clampWidth(width: number): number {
  return Number.isFinite(width) ? Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.floor(width))) : DEFAULT_WIDTH;
}

interface Style {
  status(status: Status, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
  cell(status: Status, muted: boolean): string;
}

function styleFor(color: boolean): Style {
  const sgr = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    status: (status, text) => sgr(COLOR[status], text),
    bold: (text) => sgr(1, text),
    dim: (text) => sgr(2, text),
    cell: (status, muted) => {
      const text = color ? `${SYMBOL[status]} ${LABEL[status]}` : LABEL[status];
      return muted ? sgr(2, text) : sgr(COLOR[status], text);
    },
  };
}

/**
 * Printable ASCII, and the `…` that truncate() ends a cut text with: one column per character
 * (string-width agrees: test/http/text-view.test.ts), no need to ask string-width. Its grapheme
 * segmentation of every cut target was ~7 % of a 1,000-Rollout cycle's CPU, and garbage for the
 * collector, when `…` sent those texts down the slow path (`npm run bench -- --only cycle --profile`).
 */
const PLAIN = /^[\x20-\x7e\u2026]*$/;

/** Columns a terminal gives the text (ANSI colours take none). */
function columns(text: string): number {
  return PLAIN.test(text) ? text.length : stringWidth(text);
}

function pad(text: string, width: number): string {
  const gap = width - columns(text);
  return gap > 0 ? text + ' '.repeat(gap) : text;
}

/** The first `width` columns of a text, `…` last when it was cut. */
function truncate(text: string, width: number): string {
  if (columns(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = columns(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

/**
 * Prose wrapped at spaces: the first line `first` columns wide, the others `rest` (a word longer
 * than a line is cut). Each line of the text wraps on its own; its leading spaces stay on its first
 * line.
 */
export function wrapWords(text: string, first: number, rest = first): string[] {
  const out: string[] = [];
  let limit = Math.max(1, first);
  let line = '';
  let used = 0;
  const flush = () => {
    out.push(line);
    line = '';
    used = 0;
    limit = Math.max(1, rest);
  };
  for (const paragraph of text.replace(/\t/g, '  ').split(/\r?\n/)) {
    const indent = /^ */.exec(paragraph)![0];
    if (indent.length < limit) {
      line = indent;
      used = indent.length;
    }
    let hasWord = false;
    for (const word of paragraph.slice(indent.length).split(/ +/).filter(Boolean)) {
      const w = columns(word);
      const need = used + (hasWord ? 1 : 0) + w;
      if (need <= limit) {
        line += hasWord ? ` ${word}` : word;
        used = need;
        hasWord = true;
        continue;
      }
      if (hasWord) flush();
      // A word longer than the room left is cut where the line ends.
      let left = word;
      let leftWidth = w;
      while (used + leftWidth > limit) {
        let piece = '';
        let pieceWidth = 0;
        for (const char of left) {
          const cw = columns(char);
          if (piece !== '' && used + pieceWidth + cw > limit) break;
          piece += char;
          pieceWidth += cw;
        }
        line += piece;
        left = left.slice(piece.length);
        leftWidth -= pieceWidth;
        flush();
      }
      line += left;
      used += leftWidth;
      hasWord = true;
    }
    flush();
  }
  return out;
}

/** The words of a command line: split at spaces outside quotes, quotes kept. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      word += char;
      if (char === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else if (char === quote) quote = undefined;
    } else if (char === ' ') {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += char;
      if (char === "'" || char === '"') quote = char;
      else if (char === '\\' && i + 1 < line.length) word += line[++i];
    }
  }
  if (word !== '') words.push(word);
  return words;
}

/** A word's characters, a backslash escape (outside single quotes) kept with what it escapes. */
function shellTokens(word: string): string[] {
  const tokens: string[] = [];
  let quote: "'" | '"' | undefined;
  const chars = [...word];
  for (let i = 0; i < chars.length; i++) {
    let token = chars[i]!;
    if (token === '\\' && quote !== "'" && i + 1 < chars.length) token += chars[++i];
    tokens.push(token);
    if (!quote && (token === "'" || token === '"')) quote = token;
    else if (quote && token === quote) quote = undefined;
  }
  return tokens;
}

/**
 * A shell word cut into pieces of at most `first` (then `rest`) columns that join back into the
 * same word when each but the last ends with a `\` line continuation: inside single quotes (where a
 * backslash is literal) the quote is closed before the break and opened again after it.
 */
function splitShellWord(word: string, first: number, rest: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let pieceWidth = 0;
  let limit = first;
  let quote: "'" | '"' | undefined;
  for (const token of shellTokens(word)) {
    const close = quote === "'" ? "'" : '';
    const tokenWidth = columns(token);
    // The piece, its closing quote and the continuation backslash must fit.
    if (piece !== '' && piece !== close && pieceWidth + tokenWidth + close.length + 1 > limit) {
      pieces.push(piece + close);
      piece = close;
      pieceWidth = close.length;
      limit = rest;
    }
    piece += token;
    pieceWidth += tokenWidth;
    if (!quote && (token === "'" || token === '"')) quote = token;
    else if (quote && token === quote) quote = undefined;
  }
  pieces.push(piece);
  return pieces;
}

/**
 * A command wrapped with ` \` line continuations (the first line `first` columns wide, the others
 * `rest`), so that pasting the lines runs the same command. A `  # comment` after the command goes
 * on lines of its own, each starting with `#`.
 */
export function wrapCommand(line: string, first: number, rest = first): string[] {
  if (columns(line) <= first) return [line];
  const at = line.indexOf('  # ');
  const [commandText, comment] = at === -1 ? [line, undefined] : [line.slice(0, at), line.slice(at + 2)];
  const out: string[] = [];
  let current = '';
  let limit = Math.max(8, first);
  const next = () => {
    limit = Math.max(8, rest);
  };
  for (const word of shellWords(commandText)) {
    const joined = current === '' ? word : `${current} ${word}`;
    // Every line but the last ends with ` \`: keep room for it.
    if (columns(joined) + 2 <= limit) {
      current = joined;
      continue;
    }
    if (current !== '') {
      out.push(`${current} \\`);
      current = '';
      next();
    }
    if (columns(word) + 2 <= limit) {
      current = word;
      continue;
    }
    const pieces = splitShellWord(word, limit - 2, Math.max(8, rest) - 2);
    for (const piece of pieces.slice(0, -1)) {
      // Inside a word the continuation is a bare backslash: the shell joins the pieces.
      out.push(`${piece}\\`);
      next();
    }
    current = pieces[pieces.length - 1]!;
  }
  if (current !== '') out.push(current);
  if (comment !== undefined) {
    const last = out[out.length - 1]!;
    if (columns(`${last}  ${comment}`) <= (out.length === 1 ? first : rest)) out[out.length - 1] = `${last}  ${comment}`;
    else out.push(...wrapWords(comment.replace(/^#\s*/, ''), Math.max(1, rest - 2)).map((l) => `# ${l.trim()}`));
  }
  return out;
}

/** Remediation lines that are commands get `$ ` and wrap as commands; the others are prose. */
function isCommand(line: string): boolean {
  return /^(kubectl|curl|argocd|helm|git|promtool)\s/.test(line);
}

function ageText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** The counts of a document's results: unmuted by status, muted apart. */
function countsOf(entries: readonly HealthEntry[]): { fail: number; unknown: number; warn: number; ok: number; muted: number } {
  const counts = { fail: 0, unknown: 0, warn: 0, ok: 0, muted: 0 };
  for (const entry of entries) counts[entry.muted ? 'muted' : entry.status]++;
  return counts;
}

/**
 * The first line: `2 fail, 1 unknown, 33 ok (checked 12 s ago, cycle 41 ms)`, wrapped to the width.
 * It is the only part that changes between two cycles (the age), so /health renders it per request.
 */
export function countLines(body: HealthBody, nowMs: number, options: TextViewOptions): string[] {
  const style = styleFor(Boolean(options.color));
  const width = clampWidth(options.width);
  if (!body.cycle || !body.checkedAt) return ['waiting for the first check cycle'];
  const counts = countsOf(body.checks);
  const parts = (['fail', 'unknown', 'warn', 'ok', 'muted'] as const)
    .filter((key) => counts[key] > 0)
    .map((key) => (key === 'muted' ? style.dim(`${counts[key]} muted`) : style.status(key, `${counts[key]} ${key}`)));
  const ageSeconds = Math.max(0, Math.round((nowMs - Date.parse(body.checkedAt)) / 1000));
  const line = `${parts.join(', ') || 'no results'} (checked ${ageText(ageSeconds)} ago, cycle ${Math.round(body.cycle.durationMs)} ms)`;
  return wrapWords(line, width);
}

/**
 * The incidents (docs/incidents.md), between the count line and the table, cause -> effect:
 * `1 incident: <summary>`, or `2 incidents:` and a line per incident with its status. Wrapped to
 * the width with a hanging indent.
 */
export function incidentLines(body: HealthBody, options: TextViewOptions): string[] {
  const { incidents } = body;
  if (incidents.length === 0) return [];
  const width = clampWidth(options.width);
  const style = styleFor(Boolean(options.color));
  if (incidents.length === 1) {
    const [first = '', ...more] = wrapWords(`1 incident: ${incidents[0]!.summary}`, width, width - 2);
    return [first, ...more.map((line) => `  ${line}`)];
  }
  const lines = [`${incidents.length} incidents:`];
  for (const incident of incidents) {
    const status = incident.status === 'recovering' ? 'RECOVERING' : LABEL[incident.status];
    const indent = 4 + status.length;
    const [first = '', ...more] = wrapWords(incident.summary, width - indent);
    const label = incident.status === 'recovering' ? style.dim(status) : style.status(incident.status, status);
    lines.push(`  ${label}  ${first}`, ...more.map((line) => `${' '.repeat(indent)}${line}`));
  }
  return lines;
}

/** A Rollout's results, or the cluster-wide ones (`rollout` undefined). */
interface Block {
  rollout?: string;
  entries: HealthEntry[];
}

function byRank(a: HealthEntry, b: HealthEntry): number {
  return STATUS_RANK[b.status] - STATUS_RANK[a.status];
}

/** Cluster-wide results first, then a block per Rollout, the worst first; within a block the worst first. */
function blocksOf(entries: readonly HealthEntry[]): Block[] {
  const cluster: HealthEntry[] = [];
  const rollouts = new Map<string, HealthEntry[]>();
  for (const entry of entries) {
    if (entry.rollout === undefined) cluster.push(entry);
    else rollouts.set(entry.rollout, [...(rollouts.get(entry.rollout) ?? []), entry]);
  }
  const worst = (list: readonly HealthEntry[]) => Math.max(...list.map((e) => STATUS_RANK[e.status]));
  const blocks: Block[] = [...rollouts].map(([rollout, list]) => ({ rollout, entries: [...list].sort(byRank) }));
  blocks.sort((a, b) => worst(b.entries) - worst(a.entries) || (a.rollout! < b.rollout! ? -1 : 1));
  return cluster.length > 0 ? [{ entries: [...cluster].sort(byRank) }, ...blocks] : blocks;
}

/** The target as its row shows it: blank inside its own Rollout's block. */
function shownTarget(entry: HealthEntry, block: Block): string {
  return block.rollout !== undefined && entry.target === block.rollout ? '' : entry.target;
}

/**
 * Everything after the count line: the preamble, the incident lines, the problem rows, the warn rows, then the ok and
 * muted results (one line per check, or rows when verbose).
 */
export function writeTable(body: HealthBody, options: TextViewOptions & { preamble?: readonly string[] }, write: (text: string) => void): void {
  for (const _step of tableSteps(body, options, write)) {
    // All at once: a filtered document or a terminal's frame is small.
  }
}

/**
 * writeTable in steps: it yields after each row, so a caller can give the event loop a turn between
 * two (at 1,000 Rollouts a table of 1,000 problem rows took ~200 ms in one go: each row measures its
 * text's terminal width several times).
 */
export function* tableSteps(body: HealthBody, options: TextViewOptions & { preamble?: readonly string[] }, write: (text: string) => void): Generator<void> {
  const width = clampWidth(options.width);
  const style = styleFor(Boolean(options.color));
  const verbose = Boolean(options.verbose);
  for (const line of options.preamble ?? []) for (const wrapped of wrapWords(line, width)) write(`${wrapped}\n`);
  // Kinds the cache lists every cycle because watching them is forbidden (docs/cache.md).
  for (const fallback of body.watchFallback ?? []) for (const wrapped of wrapWords(`${fallback.kind}: ${fallback.reason}`, width)) write(`${wrapped}\n`);
  if (!body.cycle) return;
  for (const line of incidentLines(body, options)) write(`${line}\n`);

  const checks = new Set(body.checks.map((e) => e.check));
  // Results that only point at another result collapse under it (when it is in this document).
  const isPointer = (e: HealthEntry) => !verbose && typeof e.details.blockedBy === 'string' && checks.has(e.details.blockedBy);
  const pointersTo = new Map<string, HealthEntry[]>();
  for (const entry of body.checks) {
    if (isPointer(entry)) pointersTo.set(entry.details.blockedBy as string, [...(pointersTo.get(entry.details.blockedBy as string) ?? []), entry]);
  }
  const shown = body.checks.filter((e) => !isPointer(e));
  const sections: Block[][] = [
    blocksOf(shown.filter((e) => !e.muted && (e.status === 'fail' || e.status === 'unknown'))),
    blocksOf(shown.filter((e) => !e.muted && e.status === 'warn')),
  ];
  if (verbose) sections.push(blocksOf(shown.filter((e) => !e.muted && e.status === 'ok')), blocksOf(shown.filter((e) => e.muted)));
  // Pointers whose result is not listed (it is ok, or muted and not verbose) are listed on their own.
  const listed = new Set(sections.flat().flatMap((block) => block.entries.filter((e) => e.details.blockedBy === undefined).map((e) => e.check)));
  const leftover = [...pointersTo].filter(([check]) => !listed.has(check)).flatMap(([, entries]) => entries);
  if (leftover.length > 0) sections.push([{ entries: leftover }]);

  const rows = sections.flat().flatMap((block) => block.entries);
  const statusWidth = Math.max(...[...new Set(rows.map((e) => e.status))].map((status) => columns(style.cell(status, false))), 0);
  const checkWidth = Math.max(...rows.map((e) => e.check.length), 0);
  const underAt = statusWidth + 2;
  const targetCap = Math.max(12, Math.floor(width * TARGET_SHARE));

  const writeIndented = (indent: number, lines: readonly string[]) => {
    for (const line of lines) write(`${' '.repeat(indent)}${line}\n`.replace(/ +\n$/, '\n'));
  };

  const writeRow = (entry: HealthEntry, target: string, targetWidth: number) => {
    const cell = style.cell(entry.status, Boolean(entry.muted));
    const prefix = `${pad(cell, statusWidth)}  ${pad(entry.check, checkWidth)}  ${targetWidth > 0 ? `${pad(truncate(target, targetWidth), targetWidth)}  ` : ''}`;
    const summaryAt = columns(prefix);
    const beside = width - summaryAt >= MIN_SUMMARY ? wrapWords(entry.summary, width - summaryAt) : [];
    if (beside.length > 0 && beside.length <= MAX_BESIDE_LINES) {
      const [first = '', ...more] = beside;
      write(`${prefix}${first}\n`.replace(/ +\n$/, '\n'));
      writeIndented(summaryAt, more);
    } else {
      // Nothing follows the target on this line: it may take the rest of it.
      const head = `${pad(cell, statusWidth)}  ${pad(entry.check, checkWidth)}  ${truncate(target, width - underAt - checkWidth - 2)}`;
      write(`${head.trimEnd()}\n`);
      writeIndented(underAt, wrapWords(entry.summary, width - underAt));
    }
    if (entry.muted && entry.muteReason) writeIndented(underAt, wrapWords(`muted: ${entry.muteReason}`, width - underAt, width - underAt - 2).map((l, i) => (i === 0 ? l : `  ${l}`)));
    if (entry.status === 'ok') return;
    for (const step of entry.remediation) {
      const lines = isCommand(step)
        ? wrapCommand(step, width - underAt - 2, width - underAt - 8).map((l, i) => (i === 0 ? `$ ${l}` : `        ${l}`))
        : wrapWords(step, width - underAt - 2, width - underAt - 4).map((l, i) => (i === 0 ? `  ${l}` : `    ${l}`));
      writeIndented(underAt, lines);
    }
    const pointers = pointersTo.get(entry.check);
    if (pointers && entry.details.blockedBy === undefined) {
      const perCheck = new Map<string, number>();
      for (const p of pointers) perCheck.set(p.check, (perCheck.get(p.check) ?? 0) + 1);
      const list = [...perCheck].map(([check, n]) => (n > 1 ? `${check} (${n})` : check)).join(', ');
      writeIndented(underAt, wrapWords(`not checked because of ${entry.check}: ${list}`, width - underAt).map(style.dim));
      pointersTo.delete(entry.check);
    }
  };

  // Status and check columns line up across the view; the target column is a block's own (blank
  // targets inside a Rollout's block leave it out, so its summaries get the room).
  // A block can hold many rows (results about no Rollout, such as every AnalysisTemplate, share one),
  // so the steps fall between rows.
  for (const section of sections) {
    for (const block of section) {
      write('\n');
      if (block.rollout !== undefined) write(`${style.bold(truncate(`Rollout ${block.rollout}`, width))}\n`);
      const targets = block.entries.map((entry) => shownTarget(entry, block));
      const longest = Math.max(0, ...targets.map((t) => columns(t)));
      const targetWidth = Math.min(longest, targetCap);
      for (const [index, entry] of block.entries.entries()) {
        writeRow(entry, targets[index]!, targetWidth);
        yield;
      }
    }
  }
  if (verbose) return;
  const quiet = new Map<string, { ok: number; muted: number }>();
  for (const entry of body.checks) {
    if (!entry.muted && entry.status !== 'ok') continue;
    const count = quiet.get(entry.check) ?? { ok: 0, muted: 0 };
    count[entry.muted ? 'muted' : 'ok']++;
    quiet.set(entry.check, count);
  }
  if (quiet.size === 0) return;
  write('\n');
  for (const [check, count] of quiet) {
    const parts = [count.ok > 0 ? style.status('ok', `${count.ok} ok`) : '', count.muted > 0 ? style.dim(`${count.muted} muted`) : ''].filter(Boolean);
    for (const line of wrapWords(`${check}: ${parts.join(', ')}`, width)) write(`${line}\n`);
  }
}

/** The whole text view as one string (the CLI, tests): count line, then the table. */
export function renderTextView(body: HealthBody, nowMs: number, options: TextViewOptions & { preamble?: readonly string[] }): string {
  let text = countLines(body, nowMs, options).map((l) => `${l}\n`).join('');
  writeTable(body, options, (piece) => {
    text += piece;
  });
  return text;
}
