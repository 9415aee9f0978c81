/**
 * A test server on 127.0.0.1 at an ephemeral port, closed together with every connection it holds
 * (hung ones too, so a test never waits on a client that will not hang up).
 */
import type { AddressInfo, Server, Socket } from 'node:net';

export interface LoopbackServer {
  port: number;
  /** `<scheme>://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function listenOnLoopback(server: Server, scheme: 'http' | 'https' = 'http'): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
