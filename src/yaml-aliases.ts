/** YAML documents to plain values, shared by the config loader and the simulator's scenario loader. */

/**
 * The YAML library's guard against alias bombs ("billion laughs"; yaml 2.x `maxAliasCount`,
 * default 100): it throws a ReferenceError while the document is converted, as it does for an
 * alias whose anchor is missing.
 */
const MAX_ALIAS_COUNT = 100;

/** `doc.toJS()`, an alias it cannot resolve reported as `errorType` naming the file and why. */
export function yamlToJs(doc: { toJS(options?: { maxAliasCount?: number }): unknown }, file: string, errorType: new (message: string) => Error): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    if (/Excessive alias count/.test(error.message)) {
      throw new errorType(`${file}: YAML aliases expand too far (the parser stops past ${MAX_ALIAS_COUNT} expansions: an alias bomb?); write the values out instead of aliasing them`);
    }
    throw new errorType(`${file}: ${error.message}`);
  }
}
