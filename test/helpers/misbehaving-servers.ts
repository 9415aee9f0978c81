/**
 * Loopback HTTP(S) servers that misbehave on purpose, shared by the prober tests and the daemon's
 * fault matrix: /ok (echoes the Authorization header), /slow (2 s), /hang (never answers), /reset
 * (cut mid-body), /loop (a redirect loop), /redirect-ok, /redirect-out (to a documentation address
 * outside loopback), /huge (100 MB, written as fast as the client reads); and a TLS server whose
 * certificate (test/fixtures/tls) no client trusts. Plus a port nothing listens on.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { listenOnLoopback } from './loopback.js';
import path from 'node:path';

const TLS_DIR = path.resolve(import.meta.dirname, '..', 'fixtures', 'tls');
const HUGE_BYTES = 100 * 1024 * 1024;

export interface MisbehavingServers {
  /** http://127.0.0.1:PORT */
  base: string;
  /** https://127.0.0.1:PORT (an untrusted certificate) */
  tlsBase: string;
  /** A loopback port with nothing listening (connections are refused). */
  closedPort: number;
  close(): Promise<void>;
}

function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  switch (new URL(req.url ?? '/', 'http://x').pathname) {
    case '/ok':
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ auth: req.headers.authorization ?? null }));
      return;
    case '/slow':
      setTimeout(() => res.end('late'), 2000);
      return;
    case '/hang':
      return;
    case '/reset':
      res.writeHead(200, { 'content-length': '100000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    case '/loop':
      res.writeHead(302, { location: '/loop2' }).end();
      return;
    case '/loop2':
      res.writeHead(302, { location: '/loop' }).end();
      return;
    case '/redirect-out':
      res.writeHead(302, { location: 'http://203.0.113.7/elsewhere' }).end();
      return;
    case '/redirect-ok':
      res.writeHead(301, { location: '/ok' }).end();
      return;
    case '/huge': {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      res.writeHead(200, { 'content-length': String(HUGE_BYTES) });
      const pump = () => {
        while (sent < HUGE_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

export async function startMisbehavingServers(): Promise<MisbehavingServers> {
  const server = await listenOnLoopback(http.createServer(route));
  const tlsServer = await listenOnLoopback(https.createServer({ cert: readFileSync(path.join(TLS_DIR, 'cert.pem')), key: readFileSync(path.join(TLS_DIR, 'key.pem')) }, (_req, res) => res.end('secure')), 'https');
  const closed = await listenOnLoopback(http.createServer());
  await closed.close();
  return {
    base: server.url,
    tlsBase: tlsServer.url,
    closedPort: closed.port,
    async close() {
      await Promise.all([server.close(), tlsServer.close()]);
    },
  };
}
