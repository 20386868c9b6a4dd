import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `host:port` (port 0 picks a free one); resolves with the bound URL, rejects on EADDRINUSE and the like. */
export function listenOn(server: Server, port: number, host: string): Promise<{ readonly url: string; readonly port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({ url: `http://${shown}:${address.port}`, port: address.port });
    });
  });
}

/**
 * Stops accepting connections and resolves once the open ones are done; idle keep-alive
 * connections are closed at once (`all`: every connection, for probes that must not hold a
 * shutdown). Closing a server that is not running is not an error.
 */
export function closeServer(server: Server, connections: 'idle' | 'all' = 'idle'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((err) => (err === undefined || (err as NodeJS.ErrnoException).code === 'ERR_SERVER_NOT_RUNNING' ? resolve() : reject(err)));
    if (connections === 'all') server.closeAllConnections();
    else server.closeIdleConnections();
  });
}
