// A local HTTP server on 127.0.0.1 (random port) that serves files and misbehaves on demand.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How a request is answered: `ok`; `drop` (full Content-Length, half the body, then the
 * connection is destroyed); `drop-chunked` (the same without Content-Length); `corrupt` (every
 * byte, a few of them changed); `stall` (headers and a few bytes, then silence); `trickle` (full
 * Content-Length, then one byte every 20 ms, never silent for long); `trickle-chunked` (the same
 * without Content-Length); `redirect-loop` (302 to itself, forever); `404`; `500`.
 */
export type Behaviour =
  | 'ok'
  | 'drop'
  | 'drop-chunked'
  | 'corrupt'
  | 'stall'
  | 'trickle'
  | 'trickle-chunked'
  | 'redirect-loop'
  | '404'
  | '500';

export interface Route {
  body: Uint8Array;
  /** How the first `times` requests are answered; later ones are `ok`. */
  behaviour?: Behaviour;
  /** @default Infinity */
  times?: number;
}

export interface TestServer {
  /** Base URL, ending in `/`. */
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  routes: Record<string, Route>;
  close(): Promise<void>;
}

export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const requests: string[] = [];
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').slice(1));
    requests.push(path);
    const route = routes[path];
    if (route === undefined) {
      res.writeHead(404).end();
      return;
    }
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    const behaviour = hit <= (route.times ?? Infinity) ? (route.behaviour ?? 'ok') : 'ok';
    const body = Buffer.from(route.body);
    switch (behaviour) {
      case 'ok':
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' }).end(body);
        return;
      case 'corrupt': {
        const bad = Buffer.from(body);
        for (let i = 0; i < bad.length; i += Math.max(1, Math.floor(bad.length / 5))) bad[i] = (bad[i] as number) ^ 0xff;
        res.writeHead(200, { 'content-length': bad.length }).end(bad);
        return;
      }
      case 'drop':
      case 'drop-chunked':
        res.writeHead(200, behaviour === 'drop' ? { 'content-length': body.length } : {});
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
          setTimeout(() => res.socket?.destroy(), 20);
        });
        return;
      case 'stall':
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, Math.min(10, body.length)));
        return; // never ends; close() destroys it
      case 'trickle':
      case 'trickle-chunked': {
        res.writeHead(200, behaviour === 'trickle' ? { 'content-length': body.length } : {});
        let sent = 0;
        const timer = setInterval(() => {
          if (sent < body.length) res.write(body.subarray(sent, ++sent));
          if (sent === body.length) {
            clearInterval(timer);
            res.end();
          }
        }, 20);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'redirect-loop':
        res.writeHead(302, { location: `/${path}` }).end();
        return;
      case '404':
        res.writeHead(404, 'Not Found').end();
        return;
      case '500':
        res.writeHead(500, 'Internal Server Error').end();
        return;
    }
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
