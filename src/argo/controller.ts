/**
 * Which Argo Rollouts controller is running, and how it logs: the version some rules depend on, read
 * from the controller container's image tag and from the line the controller logs when it starts,
 * and its `--loglevel` (cmd/rollouts-controller/main.go).
 *
 * - Image: releases are pushed as `quay.io/argoproj/argo-rollouts:<tag>` with the tag `v1.9.1`
 *   (.github/workflows/release.yaml, `${{ github.ref_name }}`); the chart uses
 *   `{registry}/{repository}:{tag | default Chart.AppVersion}` (AppVersion like `v1.8.3`), the repo's
 *   manifests/install.yaml `:latest`. A digest or `latest` says nothing about the version.
 * - Starting line, level info, right after setLogLevel (so `--loglevel warn|error` hides it):
 *   `Argo Rollouts starting` (v1.7.2, v1.8.4), `Argo Rollouts controller starting` from v1.9.0-rc1
 *   (with namespace, instanceID, metricsPort and healthzPort fields). Its `version` field is
 *   utils/version/version.go GetVersion(): the Makefile never sets gitTag (wrong package path), so a
 *   release logs `"v" + VERSION + "+" + gitCommit[0:7]`, e.g. `v1.9.1+b6bd3bc`, where VERSION is the
 *   tag when the build tree is clean and the stale VERSION file (`1.2.0`, every tag v1.7-v1.10)
 *   otherwise: `v1.2.0+<sha>` is a development build, not a version. Text logs print it with
 *   String() (`version=v1.9.1+b6bd3bc`); JSON logs marshal the struct (`"version":{"Version":...}`).
 *
 * The starting line is the running binary itself and wins over the image tag. When neither says,
 * the rules of the newest released controller apply (v1.9.1; v1.10.0-rc1 is a pre-release).
 */
import { DEFAULT_CONTROLLER_VERSION, parseVersion } from '../expr/index.js';
import { logValue, type LogLine } from './controller-log.js';

/** The newest released controller, whose rules apply when the version is unknown. */
const NEWEST_RELEASED_VERSION = DEFAULT_CONTROLLER_VERSION;

/** The starting line's message before v1.9.0-rc1 (v1.7.2, v1.8.4 main.go). */
const STARTING_MESSAGE_V17 = 'Argo Rollouts starting';
/** The starting line's message from v1.9.0-rc1 (commit 5fe7bb896). */
const STARTING_MESSAGE_V19 = 'Argo Rollouts controller starting';

export function isStartingLine(line: LogLine): boolean {
  return line.message === STARTING_MESSAGE_V17 || line.message === STARTING_MESSAGE_V19;
}

export interface ControllerVersion {
  /** The version whose rules apply: as read (`v1.8.4`), or NEWEST_RELEASED_VERSION. */
  version: string;
  source: 'starting-line' | 'image' | 'newest-released';
  /** What was read: the starting line's version field, the image reference. */
  startingLine?: string;
  image?: string;
  /** Why the version read is not the one from the other source, or why none was read. */
  note?: string;
}

const TAG_VERSION = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)$/;
const BUILD_VERSION = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)(?:\+(?:[0-9a-f]{7}(?:\.dirty)?|unknown))?$/;
/** The stale VERSION file every tag carries: a build from a tree that was not a clean tag. */
const DEV_BUILD = '1.2.0';

/** The tag of an image reference (`repo:tag`, `repo:tag@sha256:...`); undefined for a bare digest or none. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? withoutDigest.slice(colon + 1) : undefined;
}

/** `v1.8.4` from an image whose tag is a version; undefined for a digest, `latest` or any other tag. */
export function versionFromImage(image: string): string | undefined {
  const tag = imageTag(image);
  const match = tag === undefined ? undefined : TAG_VERSION.exec(tag);
  return match ? `v${match[1]}` : undefined;
}

/** The starting line's `version` field as written: a string in text logs, the struct's Version in JSON. */
function startingLineVersionField(line: LogLine): string | undefined {
  const value = logValue(line, 'version');
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { Version?: unknown }).Version === 'string') return (value as { Version: string }).Version;
  return undefined;
}

/** `v1.9.1` from `v1.9.1+b6bd3bc`; undefined for a development build (`v1.2.0+<sha>`) or anything else. */
export function versionFromBuild(field: string): string | undefined {
  const match = BUILD_VERSION.exec(field.trim());
  if (!match || match[1] === DEV_BUILD) return undefined;
  return `v${match[1]}`;
}

/** The version from what was read, the starting line first. */
export function resolveControllerVersion(read: { image?: string; startingLine?: LogLine }): ControllerVersion {
  const field = read.startingLine ? startingLineVersionField(read.startingLine) : undefined;
  const fromLine = field === undefined ? undefined : versionFromBuild(field);
  const fromImage = read.image === undefined ? undefined : versionFromImage(read.image);
  const evidence: Pick<ControllerVersion, 'startingLine' | 'image'> = {};
  if (field !== undefined) evidence.startingLine = field;
  if (read.image !== undefined) evidence.image = read.image;
  if (fromLine) {
    const out: ControllerVersion = { version: fromLine, source: 'starting-line', ...evidence };
    if (fromImage && !sameRelease(fromImage, fromLine)) out.note = `the image tag says ${fromImage}; the running binary says ${fromLine}`;
    return out;
  }
  if (fromImage) {
    const out: ControllerVersion = { version: fromImage, source: 'image', ...evidence };
    if (field !== undefined) out.note = `the starting line's version ${field} is a development build`;
    return out;
  }
  const why =
    field !== undefined
      ? `the starting line's version ${field} is a development build`
      : read.image === undefined
        ? 'no controller container found'
        : `the image ${read.image} has no version tag`;
  return { version: NEWEST_RELEASED_VERSION, source: 'newest-released', ...evidence, note: `${why}: the rules of the newest released controller (${NEWEST_RELEASED_VERSION}) apply` };
}

function sameRelease(a: string, b: string): boolean {
  return a.replace(/^v/, '') === b.replace(/^v/, '');
}

/**
 * Whether `version` is at least `minimum` (major.minor.patch; a pre-release of a version has that
 * version's features: v1.8.0-rc1 has everything v1.8.0 added).
 */
export function isAtLeast(version: string, minimum: string): boolean {
  const v = parseVersion(version) ?? parseVersion(NEWEST_RELEASED_VERSION)!;
  const m = parseVersion(minimum)!;
  for (let i = 0; i < 3; i++) if (v[i]! !== m[i]!) return v[i]! > m[i]!;
  return true;
}

/** How a result says which version decided it: `v1.8.4 (image tag)`. */
export function versionText(version: ControllerVersion): string {
  const from = { 'starting-line': 'starting log line', image: 'image tag', 'newest-released': 'version unknown, newest release assumed' }[version.source];
  return `${version.version} (${from})`;
}

/** logrus levels that hide info lines (logrus ParseLevel: case-insensitive, `warn` = `warning`). */
const ABOVE_INFO = new Set(['warn', 'warning', 'error', 'fatal', 'panic']);

/**
 * The `--loglevel` the controller container runs with (default `info`), from its args and command;
 * both `--loglevel=warn` (argo-helm) and `--loglevel warn` (cobra/pflag) forms.
 */
export function controllerLogLevel(argv: readonly string[]): string {
  let level = 'info';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--loglevel(?:=(.*))?$/.exec(arg);
    if (!match) continue;
    const value = match[1] ?? argv[i + 1];
    if (value !== undefined) level = value.toLowerCase();
  }
  return level;
}

/** Whether a controller at this level writes info lines (download lines, the starting line). */
export function logsInfoLines(level: string): boolean {
  return !ABOVE_INFO.has(level.toLowerCase());
}
