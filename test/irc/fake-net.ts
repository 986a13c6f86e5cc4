/**
 * An in-memory IRC server for client and bot tests on a fake clock: `connect` hands the client a
 * socket whose writes are split into lines, recorded with the fake time they were sent at, and
 * passed to a script that answers with `send` (delivered as a later job, as a socket would). No ports, no sleeps: with FakeClock, a test runs
 * minutes of protocol time (backoff, expiry, pacing) in milliseconds.
 */
import type { ConnectOptions, LineSocket } from "../../src/platform/net.ts";
import { parseLine } from "../../src/irc/message.ts";
import type { IrcMessage } from "../../src/irc/message.ts";

/** One line the client sent, with the fake time it was sent at. */
export interface SentLine {
  at: number;
  line: string;
  msg: IrcMessage;
  conn: number;
}

/** What a script can do: answer on the current connection, or close it. */
export interface ScriptTools {
  send(line: string): void;
  close(): void;
  conn: number;
}

/**
 * A fake server: `connect` for the client's effects, the lines it received, and `send` to push
 * a line to the client on the current connection.
 *
 * @example
 * ```ts
 * const net = fakeNet(clock.now, (m, t) => { if (m.command === "USER") t.send(":srv 001 pybot :hi"); });
 * ```
 */
export function fakeNet(now: () => number, script: (m: IrcMessage, t: ScriptTools) => void) {
  const sent: SentLine[] = [];
  let current: { push: (line: string) => void; close: () => void } | undefined;
  let conns = 0;
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const connect = (_o: ConnectOptions): Promise<LineSocket> => {
    const conn = ++conns;
    let onData: (b: Uint8Array) => void = () => {};
    let onClose: (e?: Error) => void = () => {};
    let open = true;
    let buf = "";
    // Closing, like answering, happens after what was sent before it.
    const close = () =>
      queueMicrotask(() => {
        if (!open) return;
        open = false;
        onClose();
      });
    // Answers arrive after the client's write returns, as over a socket (never re-entrantly).
    const tools: ScriptTools = {
      send: (l) => queueMicrotask(() => open && onData(enc.encode(l + "\r\n"))),
      close,
      conn,
    };
    current = { push: tools.send, close };
    return Promise.resolve({
      write: (data: Uint8Array) => {
        if (!open) return;
        buf += dec.decode(data);
        let i;
        while ((i = buf.indexOf("\r\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const msg = parseLine(line)!;
          sent.push({ at: now(), line, msg, conn });
          script(msg, tools);
        }
      },
      end: close,
      destroy: close,
      onData: (cb) => (onData = cb),
      onClose: (cb) => (onClose = cb),
    });
  };
  return {
    connect,
    sent,
    /** Pushes a line to the client on the current connection. */
    send: (line: string) => current?.push(line),
    /** Closes the current connection from the server's side. */
    drop: () => current?.close(),
    get connections() {
      return conns;
    },
  };
}

/**
 * A script for a plain server: welcomes on USER (any nick up to `nickLen`), answers JOIN with
 * the join and a member list, PING with PONG.
 *
 * @example
 * ```ts
 * const net = fakeNet(clock.now, welcoming({ members: ["alice"] }));
 * ```
 */
export function welcoming(o: { nickLen?: number; members?: string[] } = {}) {
  const s = { nick: "*", user: false, welcomed: false, conn: 0 };
  return (m: IrcMessage, t: ScriptTools) => {
    if (t.conn !== s.conn) Object.assign(s, { nick: "*", user: false, welcomed: false, conn: t.conn });
    const welcome = () => {
      if (s.welcomed || !s.user || s.nick === "*") return;
      s.welcomed = true;
      t.send(`:srv 001 ${s.nick} :Welcome ${s.nick}!~wasipy@bot.example`);
    };
    const nick = s.nick;
    if (m.command === "NICK") {
      const n = m.params[0]!;
      if (n.length > (o.nickLen ?? 30)) t.send(`:srv 432 ${nick} ${n} :Erroneous Nickname`);
      else s.nick = n;
      welcome();
    } else if (m.command === "USER") {
      s.user = true;
      welcome();
    } else if (m.command === "JOIN") {
      const chan = m.params[0]!;
      t.send(`:${nick}!~wasipy@bot.example JOIN ${chan}`);
      t.send(`:srv 353 ${nick} = ${chan} :${[nick, ...(o.members ?? [])].join(" ")}`);
      t.send(`:srv 366 ${nick} ${chan} :End of /NAMES list.`);
    } else if (m.command === "PING") {
      t.send(`:srv PONG srv :${m.params[m.params.length - 1]}`);
    }
  };
}
