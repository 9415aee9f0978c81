/**
 * Reading our Markdown the way GitHub renders it, for the tests that keep README.md and docs/ in
 * step with the code: headings and their anchors, sections, fenced code blocks and relative links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '..', '..');

export function readRepoFile(relative: string): string {
  return readFileSync(path.join(REPO, relative), 'utf8');
}

/** The lines of the Markdown, those inside fenced code blocks (```) and the fences blanked. */
function proseLines(markdown: string): string[] {
  let isFenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      isFenced = !isFenced;
      return '';
    }
    return isFenced ? '' : line;
  });
}

/** Heading text as GitHub shows it: inline code, links and emphasis reduced to their text. */
function headingText(line: string): string {
  return line
    .replace(/^#{1,6}\s+/, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim();
}

/**
 * GitHub's heading anchor (github-slugger): lower case, everything but letters, digits, spaces, `-`
 * and `_` dropped, spaces to dashes; a repeated heading gets `-1`, `-2`, ...
 */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

export interface Heading {
  level: number;
  text: string;
  anchor: string;
  line: number;
}

export function headings(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const out: Heading[] = [];
  proseLines(markdown).forEach((line, index) => {
    const match = /^(#{1,6})\s/.exec(line);
    if (!match) return;
    const text = headingText(line);
    const base = slug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.push({ level: match[1]!.length, text, anchor: count === 0 ? base : `${base}-${count}`, line: index });
  });
  return out;
}

/** The text under a heading (exact heading text), up to the next heading of the same or a higher level. */
export function section(markdown: string, title: string): string | undefined {
  const all = headings(markdown);
  const at = all.findIndex((h) => h.text === title);
  if (at === -1) return undefined;
  const end = all.slice(at + 1).find((h) => h.level <= all[at]!.level);
  return markdown
    .split('\n')
    .slice(all[at]!.line + 1, end?.line)
    .join('\n');
}

/** The contents of the fenced code blocks of a piece of Markdown, in order. */
export function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^\s*```[^\n]*\n([\s\S]*?)^\s*```/gm)].map((m) => m[1]!);
}

export interface Link {
  text: string;
  target: string;
  line: number;
}

/** Inline links outside code (fenced blocks and code spans). */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  proseLines(markdown).forEach((line, index) => {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)) out.push({ text: match[1]!, target: match[2]!, line: index + 1 });
  });
  return out;
}

export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

/** Every Markdown file under a folder of the repository, as repository-relative paths. */
export function markdownFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(REPO, relative), { withFileTypes: true })) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.md')) out.push(child);
    }
  };
  walk(folder);
  return out.sort();
}

/** The repository-relative path a relative link from `from` points at (its anchor left out). */
export function resolveLink(from: string, target: string): string {
  const file = target.split('#')[0]!;
  return file === '' ? from : path.posix.normalize(path.posix.join(path.posix.dirname(from), file));
}

/**
 * Why a link from a file of the repository does not resolve, or undefined when it does: the file
 * (or folder) must exist, and an anchor must be a heading of the Markdown file it points into.
 */
export function brokenLink(from: string, target: string): string | undefined {
  const anchor = target.includes('#') ? target.slice(target.indexOf('#') + 1) : undefined;
  const resolved = resolveLink(from, target);
  if (resolved.startsWith('..')) return `${target} leaves the repository`;
  const absolute = path.join(REPO, resolved);
  if (!existsSync(absolute)) return `${resolved} does not exist`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md') || statSync(absolute).isDirectory()) return `#${anchor} points into ${resolved}, which is not a Markdown file`;
  const anchors = new Set(headings(readFileSync(absolute, 'utf8')).map((h) => h.anchor));
  return anchors.has(anchor) ? undefined : `${resolved} has no heading #${anchor}`;
}
