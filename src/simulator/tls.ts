/**
 * The simulated API server's TLS identity: a certificate authority generated in memory and a serving
 * certificate it signs for the loopback names, so that clients verify the server the way they verify
 * a real cluster (kubeconfig `certificate-authority-data`), with no insecure flag anywhere.
 *
 * Node can make keys but not X.509 certificates; node-forge builds and signs them. RSA keys come from
 * node:crypto (native, ~50 ms for 2048 bits) because forge's own key generation is pure JavaScript.
 * One identity per process: every simulator a test process starts trusts the same in-memory CA.
 */
import { generateKeyPair as generateKeyPairCallback, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPair = promisify(generateKeyPairCallback);

export interface ServingIdentity {
  /** PEM of the CA certificate (what the kubeconfig carries). */
  caPem: string;
  /** PEM of the serving certificate and its key. */
  certPem: string;
  keyPem: string;
}

/** How long the certificates are valid (the simulator lives for minutes; a year leaves clock skew no room to matter). */
const VALIDITY_DAYS = 365;

async function rsaKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return privateKey;
}

function serial(): string {
  // A positive serial number: the first hex digit below 8.
  const hex = randomBytes(16).toString('hex');
  return `${(parseInt(hex[0] as string, 16) & 7).toString(16)}${hex.slice(1)}`;
}

function validity(cert: forge.pki.Certificate): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + VALIDITY_DAYS * 24 * 60 * 60 * 1000);
}

interface Authority {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  pem: string;
}

const CA_NAME = [{ name: 'commonName', value: 'rollout-doctor-simulator-ca' }];

async function createAuthority(): Promise<Authority> {
  const key = forge.pki.privateKeyFromPem(await rsaKeyPem()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  validity(cert);
  cert.setSubject(CA_NAME);
  cert.setIssuer(CA_NAME);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { cert, key, pem: forge.pki.certificateToPem(cert) };
}

/** A serving certificate for the names a kube-apiserver carries for loopback, plus `host`. */
async function createServing(ca: Authority, host: string): Promise<ServingIdentity> {
  const keyPem = await rsaKeyPem();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  validity(cert);
  cert.setSubject([{ name: 'commonName', value: 'kube-apiserver' }]);
  cert.setIssuer(CA_NAME);
  const ips = new Set(['127.0.0.1', '::1']);
  if (isIP(host.replace(/^\[|\]$/g, ''))) ips.add(host.replace(/^\[|\]$/g, ''));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 2, value: 'kubernetes' },
        { type: 2, value: 'kubernetes.default' },
        ...[...ips].map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { caPem: ca.pem, certPem: forge.pki.certificateToPem(cert), keyPem };
}

let authority: Promise<Authority> | undefined;
const serving = new Map<string, Promise<ServingIdentity>>();

/** The serving identity for a listen host, under the process's CA (both generated on first use, in memory only). */
export function servingIdentity(host: string): Promise<ServingIdentity> {
  let identity = serving.get(host);
  if (!identity) {
    authority ??= createAuthority();
    identity = authority.then((ca) => createServing(ca, host));
    serving.set(host, identity);
  }
  return identity;
}
