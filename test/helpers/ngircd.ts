/**
 * Starts a throw-away ngIRCd on a free loopback port (plain + TLS) for the IRC tests.
 * Fails loudly when ngircd or openssl is missing: `npm test` installs them (scripts/test.mjs), and a
 * silent skip would hide that the bot was never tested against a real server.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as netConnect } from "node:net";

export interface NgircdServer {
  port: number;
  tlsPort: number;
  /** PEM of the test CA that signed the TLS port's certificate (trust it with `ca`). */
  caPem: string;
  dir: string;
  /** Kills the server; `start()` brings it back on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes the temp directory. */
  close(): Promise<void>;
}

function findBinary(name: string, extra: string[]): string | undefined {
  for (const p of extra) if (existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function requireNgircd(): string {
  const bin = findBinary("ngircd", ["/usr/sbin/ngircd", "/usr/bin/ngircd"]);
  if (!bin) {
    throw new Error(
      "ngircd is not installed: the IRC tests need a real server. Install it with `apt-get install -y ngircd` (`npm test` does this).",
    );
  }
  return bin;
}

function requireOpenssl(): string {
  const bin = findBinary("openssl", ["/usr/bin/openssl"]);
  if (!bin) {
    throw new Error(
      "openssl is not installed: the IRC TLS tests generate a self-signed certificate with it. Install it with `apt-get install -y openssl`.",
    );
  }
  return bin;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts a TCP connection on 127.0.0.1:port now (a daemon's readiness). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Generates a CA and a server certificate for 127.0.0.1/localhost signed by it. */
function makeCerts(dir: string): { caPem: string; certFile: string; keyFile: string; dhFile: string } {
  const openssl = requireOpenssl();
  const run = (args: string[]) => {
    const r = spawnSync(openssl, args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=wasi-py test CA",
  ]);
  run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ]);
  // A fixed RFC 7919 group: otherwise ngIRCd generates DH parameters at start, which can take seconds.
  run(["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem"]);
  run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "san.ext",
  ]);
  return {
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server.key"),
    dhFile: join(dir, "dh.pem"),
  };
}

export async function startNgircd(opts: { maxPenaltyTime?: number; password?: string } = {}): Promise<NgircdServer> {
  const bin = requireNgircd();
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-ngircd-"));
  const { caPem, certFile, keyFile, dhFile } = makeCerts(dir);
  const port = await freePort();
  const tlsPort = await freePort();
  const conf = [
    "[Global]",
    "Name = irc.test",
    "Info = wasi-py test server",
    "AdminInfo1 = wasi-py tests",
    "AdminInfo2 = loopback only",
    "AdminEMail = nobody@invalid",
    "Listen = 127.0.0.1",
    `Ports = ${port}`,
    ...(opts.password !== undefined ? [`Password = ${opts.password}`] : []),
    `MotdFile = ${join(dir, "motd")}`,
    `PidFile = ${join(dir, "ngircd.pid")}`,
    "[Limits]",
    "MaxConnectionsIP = 0",
    "MaxJoins = 0",
    "MaxNickLength = 30",
    "PingTimeout = 120",
    "PongTimeout = 20",
    ...(opts.maxPenaltyTime !== undefined ? [`MaxPenaltyTime = ${opts.maxPenaltyTime}`] : []),
    "[Options]",
    "PAM = no",
    "Ident = no",
    "DNS = no",
    "OperCanUseMode = yes",
    "[SSL]",
    `CertFile = ${certFile}`,
    `KeyFile = ${keyFile}`,
    `DHFile = ${dhFile}`,
    `Ports = ${tlsPort}`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "motd"), "wasi-py test server\n");
  const confFile = join(dir, "ngircd.conf");
  writeFileSync(confFile, conf);

  let child: ChildProcess | undefined;
  let log = "";
  const start = async () => {
    log = "";
    const c = spawn(bin, ["--nodaemon", "-f", confFile], { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    c.stdout?.on("data", (d) => (log += d));
    c.stderr?.on("data", (d) => (log += d));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`ngircd exited at start (code ${c.exitCode}):\n${log}`);
      if ((await canConnect(port)) && (await canConnect(tlsPort))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    c.kill("SIGKILL");
    throw new Error(`ngircd did not start listening within 15 s:\n${log}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  };
  await start();
  return {
    port,
    tlsPort,
    caPem,
    dir,
    start,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let loopback = 1;
/** The next loopback source address, 127.0.0.2 to 127.0.0.254 in turn. */
export function nextLoopback(): string {
  loopback = loopback >= 254 ? 2 : loopback + 1;
  return `127.0.0.${loopback}`;
}

/** A raw IRC client for the tests: records every line it receives. */
export class TestIrcUser {
  lines: string[] = [];
  closed = false;
  #sock: import("node:net").Socket;
  #buf = "";
  #waiters: (() => void)[] = [];
  readonly nick: string;

  private constructor(sock: import("node:net").Socket, nick: string) {
    this.#sock = sock;
    this.nick = nick;
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      this.#buf += d;
      let i;
      while ((i = this.#buf.indexOf("\n")) >= 0) {
        const line = this.#buf.slice(0, i).replace(/\r$/, "");
        this.#buf = this.#buf.slice(i + 1);
        if (line.startsWith("PING ")) sock.write(`PONG ${line.slice(5)}\r\n`);
        this.lines.push(line);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    sock.on("close", () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    sock.on("error", () => {});
  }

  /**
   * Connects and registers. Each user comes from its own loopback address (127.0.0.2, .3, ...)
   * unless `localAddress` says otherwise, so the bot, which keys requesters by host, sees
   * distinct users as on a real network.
   */
  static async connect(
    port: number,
    nick: string,
    channels: string[] = [],
    localAddress: string = nextLoopback(),
  ): Promise<TestIrcUser> {
    const sock = netConnect({ host: "127.0.0.1", port, localAddress });
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", reject);
    });
    const u = new TestIrcUser(sock, nick);
    u.raw(`NICK ${nick}`);
    u.raw(`USER ${nick} 0 * :test user`);
    await u.waitFor((l) => / 001 /.test(l), 5000);
    for (const c of channels) {
      u.raw(`JOIN ${c}`);
      await u.waitFor((l) => new RegExp(`^:${nick}!\\S+ JOIN :?${c.replace(/[#]/g, "\\$&")}$`, "i").test(l), 5000);
    }
    return u;
  }

  raw(line: string): void {
    this.#sock.write(line + "\r\n");
  }

  say(target: string, text: string): void {
    this.raw(`PRIVMSG ${target} :${text}`);
  }

  /** Waits for a line (received after index `from`) matching `pred`; returns it. */
  async waitFor(pred: (line: string) => boolean, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen = from;
    for (;;) {
      for (; seen < this.lines.length; seen++) if (pred(this.lines[seen])) return this.lines[seen];
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.nick}: no matching line within ${timeoutMs} ms; last lines:\n${this.lines.slice(-8).join("\n")}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** PRIVMSG/NOTICE texts received from `nick`, with the command. */
  messagesFrom(nick: string, from = 0): { command: string; target: string; text: string; raw: string }[] {
    const out = [];
    for (const l of this.lines.slice(from)) {
      const m = /^:([^!\s]+)!\S+ (PRIVMSG|NOTICE) (\S+) :(.*)$/.exec(l);
      if (m && m[1].toLowerCase() === nick.toLowerCase()) out.push({ command: m[2], target: m[3], text: m[4], raw: l });
    }
    return out;
  }

  /** Ends the connection at once, sending nothing more (a stuck line cannot hold up a QUIT). */
  disconnect(): void {
    this.#sock.destroy();
  }

  async quit(): Promise<void> {
    if (this.closed) return;
    this.raw("QUIT :done");
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.#sock.destroy();
        r();
      }, 1000);
      this.#sock.once("close", () => {
        clearTimeout(t);
        r();
      });
    });
  }
}
