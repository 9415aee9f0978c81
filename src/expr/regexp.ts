/**
 * `matches` compiles its pattern with Go's regexp (RE2 syntax, linear-time matching). RE2JS is a
 * port of RE2 with Go's syntax and Go's error texts ("error parsing regexp: missing closing ): `(`"),
 * so a hostile pattern cannot backtrack catastrophically as JavaScript's RegExp could.
 */
import { RE2JS } from 're2js';

const cache = new Map<string, RE2JS | string>();
const MAX_CACHED = 256;

/** The compiled pattern, or the compile error's message. */
export function compileRegexp(pattern: string): RE2JS | string {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = RE2JS.compile(pattern);
    } catch (error) {
      compiled = error instanceof Error ? error.message : String(error);
    }
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** regexp.MatchString: does the pattern match anywhere in s. */
export function matchString(re: RE2JS, s: string): boolean {
  return re.matcher(s).find();
}
