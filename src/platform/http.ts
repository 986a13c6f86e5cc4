/**
 * The HTTP listener of `wasi-py --serve`: the one place that knows which runtime serves requests.
 * On Node, Hono's Node adapter (@hono/node-server) over node:http, with its header and request
 * read timeouts; on Deno, Deno.serve (which has no header-timeout setting: the body read timeout
 * of src/serve/body.ts still applies). Both hand the app a standard Request and the client's
 * address, and both can stop accepting while requests in flight finish.
 */

/** What the app learns about the connection besides the Request. */
export interface ClientInfo {
  /** The peer's IP address ("" when unknown). */
  address: string;
}

/** The app: a fetch handler. */
export type FetchHandler = (request: Request, client: ClientInfo) => Response | Promise<Response>;

/** Where and how to listen. */
export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Longest wait for a request's headers, ms (Node only). */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, headers and body, ms (Node only; body.ts bounds the body on both). */
  requestTimeoutMs: number;
}

/** A listening server. */
export interface HttpServer {
  /** The port actually bound. */
  port: number;
  /** Stops accepting connections and closes idle ones; resolves once every connection is closed. */
  stopAccepting(): Promise<void>;
  /** Closes every connection now (after the grace period). */
  closeAll(): void;
}

const IS_DENO = "Deno" in globalThis;

/**
 * Starts listening and resolves once the port is bound.
 *
 * @example
 * ```ts
 * const server = await listen((req) => new Response("hi"), { hostname: "127.0.0.1", port: 0, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
 * await server.stopAccepting();
 * ```
 */
export function listen(handler: FetchHandler, options: ListenOptions): Promise<HttpServer> {
  return IS_DENO ? listenDeno(handler, options) : listenNode(handler, options);
}

async function listenNode(handler: FetchHandler, options: ListenOptions): Promise<HttpServer> {
  const { serve } = await import("@hono/node-server");
  return await new Promise<HttpServer>((resolve, reject) => {
    const server = serve({
      fetch: (request, env) => handler(request, { address: env.incoming.socket.remoteAddress ?? "" }),
      hostname: options.hostname,
      port: options.port,
      serverOptions: {
        headersTimeout: options.headersTimeoutMs,
        requestTimeout: options.requestTimeoutMs,
        keepAliveTimeout: 5_000,
        // How often Node checks those two timeouts (its default, 30 s, would let them run late).
        connectionsCheckingInterval: 1_000,
      },
    }, (info) => {
      const http = server as import("node:http").Server;
      resolve({
        port: info.port,
        stopAccepting: () =>
          new Promise<void>((done) => {
            http.close(() => done());
            http.closeIdleConnections();
          }),
        closeAll: () => http.closeAllConnections(),
      });
    });
    server.once("error", reject);
  });
}

/** Deno.serve, as far as it is used here (typed locally: the Node types have no Deno namespace). */
interface DenoServe {
  serve(
    options: { hostname: string; port: number; signal: AbortSignal; onListen: (addr: { port: number }) => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
}

function listenDeno(handler: FetchHandler, options: ListenOptions): Promise<HttpServer> {
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
  const stop = new AbortController();
  let finished = false;
  return new Promise<HttpServer>((resolve, reject) => {
    try {
      const server = deno.serve({
        hostname: options.hostname,
        port: options.port,
        signal: stop.signal,
        onListen: (addr) =>
          resolve({
            port: addr.port,
            stopAccepting: () => server.shutdown(),
            // Aborting a server that has finished throws BadResource: only one still serving.
            closeAll: () => {
              if (!finished) stop.abort();
            },
          }),
      }, (request, info) => handler(request, { address: info.remoteAddr.hostname }));
      void server.finished.then(() => (finished = true), () => (finished = true));
    } catch (e) {
      reject(e);
    }
  });
}
