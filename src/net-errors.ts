/**
 * What Node, undici and OpenSSL put in `code` (possibly on a nested `cause`), read the same way by
 * the kube layer and the prober.
 */
export function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** TLS failures: handshake, certificate and OpenSSL codes. */
export const TLS_ERROR_CODE = /^(ERR_TLS|ERR_SSL|ERR_OSSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH)/;
