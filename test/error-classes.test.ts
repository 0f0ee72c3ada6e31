// classifyError on the errors Octokit really throws: a request that got no answer is a network or
// timeout error (Octokit gives it status 500), an answer keeps its HTTP status.
import { request } from '@octokit/request';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../src/worker/errors.js';
import { closedPortUrl, startSilentServer, type SilentServer } from './helpers/silent.js';

let silent: SilentServer;
let answering: { url: string; close(): Promise<void> };
let resetting: Server;

beforeAll(async () => {
  silent = await startSilentServer();
  const server = createHttpServer((req, res) => {
    const status = Number(req.url!.slice(1));
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'scripted' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  resetting = createTcpServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
  answering = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
});
afterAll(async () => {
  await silent.close();
  await answering.close();
  await new Promise((resolve) => resetting.close(resolve));
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error,
  );

describe('classifyError on real Octokit errors', () => {
  it('connection refused → transient:network (Octokit says 500)', async () => {
    const error = await failure(request('GET /user', { baseUrl: await closedPortUrl() }));
    expect((error as { status: number }).status).toBe(500);
    expect(classifyError(error)).toMatchObject({ kind: 'transient', errorClass: 'transient:network' });
  });

  it('a connection reset before any answer → transient:network', async () => {
    const { port } = resetting.address() as { port: number };
    const error = await failure(request('GET /user', { baseUrl: `http://127.0.0.1:${port}` }));
    expect(classifyError(error)).toMatchObject({ kind: 'transient', errorClass: 'transient:network' });
  });

  it('no answer before the signal times out → transient:timeout', async () => {
    const error = await failure(
      request('GET /user', { baseUrl: silent.url, request: { signal: AbortSignal.timeout(200) } }),
    );
    expect(classifyError(error)).toMatchObject({ kind: 'transient', errorClass: 'transient:timeout' });
  });

  it('real answers keep their status class', async () => {
    const answer = (status: number) => failure(request(`GET /${status}`, { baseUrl: answering.url }));
    expect(classifyError(await answer(500)).errorClass).toBe('transient:http_500');
    expect(classifyError(await answer(503)).errorClass).toBe('transient:http_503');
    expect(classifyError(await answer(404)).errorClass).toBe('permanent:http_404');
  });
});
