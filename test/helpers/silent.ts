// The two ways a server can fail to answer, on loopback: nothing listens on the port, or something
// accepts the connection and never writes a byte.
import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that accepts every connection and never answers. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    silent.connections++;
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const silent: SilentServer = {
    url: `http://127.0.0.1:${port}`,
    connections: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return silent;
}

/** A loopback URL nothing listens on: a port bound once, then released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
