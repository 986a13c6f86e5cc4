/**
 * A scripted IRC server for client tests: listens on 127.0.0.1 (a free port), splits what each
 * connection sends into CRLF-terminated lines, records them, and hands each to `onLine` with a way
 * to answer, the socket and the connection's number (1 for the first). For what a real server
 * cannot be made to do on cue (odd numerics, SASL replies, disconnects); real servers have
 * test/helpers/ngircd.ts and inspircd.ts.
 */
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";

/**
 * Starts a scripted server.
 *
 * @example
 * ```ts
 * const srv = await scriptedServer((line, send) => {
 *   if (line.startsWith("NICK")) send(":srv 001 pybot :Welcome");
 * });
 * // connect a client to srv.port ... then:
 * await srv.close();
 * ```
 */
export async function scriptedServer(
  onLine: (line: string, send: (l: string) => void, sock: Socket, conn: number) => void,
): Promise<{ port: number; received: string[]; connections: number; close(): Promise<void> }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const srv: Server = createServer((sock) => {
    sockets.add(sock);
    const conn = ++state.connections;
    let buf = "";
    sock.setEncoding("utf8");
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
    sock.on("data", (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        received.push(line);
        onLine(line, (l) => sock.write(l + "\r\n"), sock, conn);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return {
    port: (srv.address() as { port: number }).port,
    received,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
