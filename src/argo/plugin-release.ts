/**
 * Which release of a plugin the controller runs, read from the plugin's `location` in the
 * controller ConfigMap. Argo Rollouts downloads the binary from that URL at startup
 * (utils/plugin/downloader.go, v1.7.2-v1.10.0-rc1) and plugins publish it as a GitHub release
 * asset, `https://github.com/<owner>/<repo>/releases/download/<tag>/<asset>`, so the release is
 * the tag in that path. A `file://` location, a mirror or a `latest` URL names no release.
 */

/** A release tag `vMAJOR.MINOR.PATCH[-pre]`, as plugins tag their releases. */
const RELEASE_TAG = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

export interface PluginRelease {
  /** The tag as written, e.g. `v0.15.0`. */
  tag: string;
  major: number;
  minor: number;
  patch: number;
  /** `rc1` of `v0.0.0-rc1`. */
  prerelease?: string;
}

/** Parses `v0.12.0` (or `v0.0.0-rc1`); undefined when it is not a release tag. */
export function parseReleaseTag(tag: string): PluginRelease | undefined {
  const match = RELEASE_TAG.exec(tag);
  if (!match) return undefined;
  return { tag, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), ...(match[4] ? { prerelease: match[4] } : {}) };
}

/** The release a plugin location downloads, when the URL names one (`.../releases/download/<tag>/...`). */
export function releaseFromLocation(location: string | undefined): PluginRelease | undefined {
  if (!location) return undefined;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const parts = url.pathname.split('/');
  const at = parts.indexOf('download');
  if (at < 1 || parts[at - 1] !== 'releases' || at + 1 >= parts.length) return undefined;
  return parseReleaseTag(decodeURIComponent(parts[at + 1]!));
}

/** Semver order: a pre-release sorts before its release (`v0.0.0-rc1` < `v0.0.0`). */
export function compareReleases(a: PluginRelease, b: PluginRelease): number {
  const byNumber = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (byNumber !== 0) return Math.sign(byNumber);
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === undefined) return 1;
  if (b.prerelease === undefined) return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

/** Whether `release` lies in [from, before): `from` inclusive, `before` exclusive, either may be open. */
export function isReleaseWithin(release: PluginRelease, from: string | undefined, before: string | undefined): boolean {
  const low = from === undefined ? undefined : parseReleaseTag(from);
  const high = before === undefined ? undefined : parseReleaseTag(before);
  return (low === undefined || compareReleases(release, low) >= 0) && (high === undefined || compareReleases(release, high) < 0);
}

/** `release >= tag`. */
export function isAtLeast(release: PluginRelease, tag: string): boolean {
  return isReleaseWithin(release, tag, undefined);
}
