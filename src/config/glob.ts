/**
 * Globs over check targets and namespaces: `*` matches any run of characters (slashes included, so
 * `litellm/*` and `*` both do what an operator means), `?` one character, everything else literally.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
