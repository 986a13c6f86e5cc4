/**
 * Issue 15's behaviours, unit-sized: the bot with a fake client (fair evaluation queue, chatter,
 * help, CTCP VERSION, paused channels, one log line per lock-out, a quiet shutdown, the paste
 * target against a small local HTTP server) and the client against a scripted server (NICKLEN,
 * SASL failing closed without CAP, join failures retried, send failures, backoff kept after a
 * short connection, a refused server password, stale replies dropped after a reconnect).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IrcBot } from "../../src/irc/bot.ts";
import type { BotClient, BotOptions, EvalLimits, Evaluator } from "../../src/irc/bot.ts";
import { isChatter } from "../../src/irc/chatter.ts";
import { parseLine } from "../../src/irc/message.ts";
import type { SayMeta } from "../../src/irc/output.ts";
import { pasteClient } from "../../src/irc/paste.ts";
import { IrcConfigError, redactChannel } from "../../src/irc/config.ts";
import { startBot } from "../../src/irc/start.ts";
import { formatIrcReply } from "../../src/format/messages.ts";
import type { RunResult } from "../../src/sandbox/result.ts";
import { result } from "../helpers/run-result.ts";
import { scriptedServer } from "../helpers/scripted-server.ts";
import { testIrcConfig } from "../helpers/irc-config.ts";

const SYNTAX = (code: string) =>
  result({
    outcome: "error",
    exitCode: 1,
    stderr: `  File "<string>", line 1\n    ${code}\n          ^\nSyntaxError: invalid syntax\n`,
  });

class FakeClient implements BotClient {
  nick = "PyBot";
  chanTypes = "#&";
  casemapping = "rfc1459";
  sent: { target: string; text: string; command: string; meta?: SayMeta }[] = [];
  ctcp: { target: string; text: string }[] = [];
  paused = new Set<string>();
  maxTextBytes(): number {
    return 400;
  }
  say(target: string, text: string, command = "PRIVMSG", meta?: SayMeta): boolean {
    this.sent.push({ target, text, command, meta });
    meta?.onSent?.(7);
    return true;
  }
  canSend(target: string): boolean {
    return !this.paused.has(target);
  }
  ctcpReply(target: string, text: string): void {
    this.ctcp.push({ target, text });
  }
}

const limits: EvalLimits = { fuel: 1000, timeoutMs: 1000, memoryMiB: 64, maxOutputBytes: 4096 };

function options(over: Partial<BotOptions> = {}): BotOptions {
  return {
    prefix: "!py",
    nickAddressing: true,
    privateBareCode: true,
    maxLines: 3,
    queueSize: 100,
    workers: 1,
    perUserConcurrency: 1,
    userLimits: limits,
    adminLimits: limits,
    rateLimit: {
      evalsPerWindow: 50,
      windowMs: 60_000,
      adminEvalsPerWindow: 50,
      maxEvalsPerWindow: 50,
      admins: [],
      ignore: [],
    },
    ...over,
  };
}

function msg(nick: string, target: string, text: string, host = `${nick}.example`) {
  return parseLine(`:${nick}!~${nick}@${host} PRIVMSG ${target} :${text}`)!;
}

function bot(evaluate: Evaluator, over: Partial<BotOptions> = {}) {
  const client = new FakeClient();
  const logs: string[] = [];
  const b = new IrcBot(client, evaluate, formatIrcReply, options(over), {
    now: Date.now,
    log: (l, t) => logs.push(`${l} ${t}`),
  });
  return { client, bot: b, logs };
}

describe("IrcBot: fairness, chatter, help, failures", () => {
  it("one user's backlog delays another's first request by at most one evaluation", async () => {
    const order: string[] = [];
    const waiting: (() => void)[] = [];
    const evaluate: Evaluator = (code) =>
      new Promise((r) => {
        order.push(code);
        waiting.push(() => r(result({ stdout: `${code}\n` })));
      });
    const h = bot(evaluate);
    // Three connections from one host with different idents: one requester.
    for (let i = 0; i < 5; i++) {
      for (const ident of ["x1", "x2", "x3"]) {
        h.bot.handle(parseLine(`:s${ident}!~${ident}@spam.host PRIVMSG #py :!py spam${ident}${i}`)!);
      }
    }
    await new Promise((r) => setTimeout(r, 0));
    h.bot.handle(msg("alice", "#py", "!py alice1"));
    for (let i = 0; i < 3; i++) {
      waiting.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal(order[0], "spamx10");
    assert.equal(order[1], "alice1", `order: ${order.join(", ")}`);
    while (waiting.length) {
      waiting.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
    await h.bot.whenIdle();
  });

  it("chatter addressed by nick or in private stays silent; !py answers with the error", async () => {
    const evaluate: Evaluator = (code) =>
      Promise.resolve(
        code === "hello"
          ? result({
            outcome: "error",
            exitCode: 1,
            stderr: 'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n    hello\n' +
              "NameError: name 'hello' is not defined. Did you mean: 'help'?\n",
          })
          : SYNTAX(code),
      );
    const h = bot(evaluate);
    h.bot.handle(msg("alice", "#py", "PyBot: thanks!"));
    h.bot.handle(msg("alice", "PyBot", "hello"));
    h.bot.handle(msg("alice", "PyBot", "how are you?"));
    await h.bot.whenIdle();
    assert.equal(h.client.sent.length, 0);
    assert.equal(h.bot.stats.chatter, 3);
    h.bot.handle(msg("alice", "#py", "!py thanks!"));
    await h.bot.whenIdle();
    assert.match(h.client.sent[0]!.text, /^alice: Exited with code 1 ⏎ {3}File "<string>"/);
  });

  it("isChatter: compile errors and one undefined bare word only", () => {
    const cases: [string, Partial<RunResult>, boolean][] = [
      ["thanks!", SYNTAX("thanks!"), true],
      [
        "\tx",
        { ...SYNTAX("x"), stderr: '  File "<string>", line 1\n    \tx\nIndentationError: unexpected indent\n' },
        true,
      ],
      ["hello", {
        outcome: "error",
        stderr: "Traceback (most recent call last):\nNameError: name 'hello' is not defined\n",
      }, true],
      ["hello()", {
        outcome: "error",
        stderr: "Traceback (most recent call last):\nNameError: name 'hello' is not defined\n",
      }, false],
      [
        "raise SyntaxError",
        { outcome: "error", stderr: "Traceback (most recent call last):\nSyntaxError: x\n" },
        false,
      ],
      [
        "1/0",
        { outcome: "error", stderr: "Traceback (most recent call last):\nZeroDivisionError: division by zero\n" },
        false,
      ],
      ["print(1)", { outcome: "ok", stdout: "1\n" }, false],
    ];
    for (const [code, r, want] of cases) assert.equal(isChatter(code, result(r)), want, code);
  });

  it("!py:help and a bare mention answer with help; CTCP VERSION is answered; NOTICEs are not", async () => {
    const h = bot(() => Promise.resolve(result({ stdout: "x\n" })), { version: "wasi-py test" });
    h.bot.handle(msg("alice", "#py", "!py:help"));
    h.bot.handle(msg("bob", "#py", "PyBot"));
    h.bot.handle(msg("carol", "PyBot", "\x01VERSION\x01"));
    h.bot.handle(parseLine(":dave!~d@d.example NOTICE PyBot :\x01VERSION\x01")!);
    h.bot.handle(parseLine(":dave!~d@d.example NOTICE #py :!py 1")!);
    await h.bot.whenIdle();
    assert.equal(h.client.sent.length, 2);
    assert.match(h.client.sent[0]!.text, /^alice: I run Python 3\.13 in a sandbox: !py <code>/);
    assert.match(h.client.sent[1]!.text, /^bob: I run Python/);
    assert.deepEqual(h.client.ctcp, [{ target: "carol", text: "VERSION wasi-py test" }]);
  });

  it("a channel where replies cannot be sent is not evaluated for", async () => {
    let runs = 0;
    const h = bot(() => Promise.resolve((runs++, result({ stdout: "x\n" }))));
    h.client.paused.add("#muted");
    h.bot.handle(msg("alice", "#muted", "!py 1"));
    h.bot.handle(msg("alice", "#ok", "!py 1"));
    await h.bot.whenIdle();
    assert.equal(runs, 1);
    assert.deepEqual(h.client.sent.map((s) => s.target), ["#ok"]);
  });

  it("one log line per rate-limit lock-out, and the real send delay of each reply", async () => {
    const h = bot(() => Promise.resolve(result({ stdout: "x\n" })), {
      rateLimit: {
        evalsPerWindow: 1,
        windowMs: 60_000,
        adminEvalsPerWindow: 1,
        maxEvalsPerWindow: 1,
        admins: [],
        ignore: [],
      },
    });
    for (let i = 0; i < 6; i++) h.bot.handle(msg("alice", "#py", "!py 1"));
    await h.bot.whenIdle();
    assert.equal(h.logs.filter((l) => /rate limit/.test(l)).length, 1, h.logs.join("\n"));
    assert.ok(h.logs.some((l) => /^info replied to alice in #py: 1 line, sent after 7 ms$/.test(l)), h.logs.join("\n"));
    assert.equal(h.client.sent.find((x) => x.command === "PRIVMSG")!.meta?.requester, "@alice.example");
  });

  it("a normal shutdown does not log the running evaluation as an error", async () => {
    let fail: (e: Error) => void = () => {};
    const h = bot(() => new Promise((_, reject) => (fail = reject)));
    h.bot.handle(msg("alice", "#py", "!py while True: pass"));
    await new Promise((r) => setTimeout(r, 0));
    h.bot.clearQueue();
    fail(new Error("sandbox closed"));
    await h.bot.whenIdle();
    assert.ok(!h.logs.some((l) => l.startsWith("error")), h.logs.join("\n"));
    assert.ok(h.logs.some((l) => /stopped by the shutdown/.test(l)));
    assert.deepEqual(h.client.sent, []);
  });

  it("cut output is pasted under the documented contract and the reply links it", async () => {
    const bodies: string[] = [];
    const http = createHttpServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        bodies.push(`${req.method} ${req.headers["content-type"]} ${body}`);
        if (req.url === "/broken") res.writeHead(500).end("no");
        else res.writeHead(201, { "content-type": "text/plain" }).end(`http://127.0.0.1/p/${bodies.length}\n`);
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    const port = (http.address() as { port: number }).port;
    try {
      const long = "word ".repeat(2000);
      const h = bot(() => Promise.resolve(result({ stdout: long })), {
        paste: pasteClient(`http://127.0.0.1:${port}/paste`, 5000),
      });
      h.bot.handle(msg("alice", "#py", "!py print('word ' * 2000)"));
      await h.bot.whenIdle(); // the paste answered and the reply queued: nothing left to wait for
      assert.equal(bodies.length, 1);
      assert.equal(bodies[0], `POST text/plain; charset=utf-8 ${long}`);
      assert.match(h.client.sent[h.client.sent.length - 1]!.text, /more bytes: http:\/\/127\.0\.0\.1\/p\/1\)$/);
      assert.equal(h.bot.stats.pasted, 1);

      const broken = bot(() => Promise.resolve(result({ stdout: long })), {
        paste: pasteClient(`http://127.0.0.1:${port}/broken`, 5000),
      });
      broken.bot.handle(msg("alice", "#py", "!py print('word ' * 2000)"));
      await broken.bot.whenIdle();
      assert.match(broken.client.sent[broken.client.sent.length - 1]!.text, /more bytes: !more\)$/);
      assert.ok(broken.logs.some((l) => /^warn paste failed.*answered 500/.test(l)), broken.logs.join("\n"));
    } finally {
      http.closeAllConnections(); // keep-alive sockets of fetch would hold close() open for a minute or more on Deno
      await new Promise((r) => http.close(r));
    }
  });
});

// ---------- the client against a scripted server ----------

function config(port: number, over: Record<string, unknown> = {}) {
  return testIrcConfig(`127.0.0.1:${port}`, {
    workers: 1,
    reconnectMinMs: 100,
    reconnectMaxMs: 2000,
    joinRetryMinMs: 1000,
    ...over,
  });
}

const evaluate: Evaluator = () => Promise.resolve(result({ stdout: "ok\n" }));

describe("TLS settings and logs", () => {
  it("a --tls-ca that is not PEM is refused; --tls-insecure logs a warning; channel keys are redacted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wasi-py-irc-tls-"));
    try {
      const notPem = join(dir, "ca.der");
      writeFileSync(notPem, new Uint8Array([0x30, 0x82, 0x01, 0x0a]));
      assert.throws(
        () => startBot(config(1, { tls: true, tlsCa: notPem }), evaluate, formatIrcReply, () => {}),
        (e: Error) => e instanceof IrcConfigError && /CA file .*ca\.der is not a PEM file/.test(e.message),
      );
      const srv = await scriptedServer(() => {});
      const log: string[] = [];
      const b = startBot(
        config(srv.port, { tls: true, tlsInsecure: true }),
        evaluate,
        formatIrcReply,
        (l, t) => log.push(`${l} ${t}`),
      );
      await b.stop();
      await srv.close();
      assert.ok(
        log.some((l) => /^warn --tls-insecure: the server's certificate is NOT checked/.test(l)),
        log.join("\n"),
      );
      assert.equal(redactChannel("#py sekrit"), "#py (key)");
      assert.equal(redactChannel("#py"), "#py");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
