/**
 * `wasi-py --irc`'s entry point: argv to a running bot on a real ngIRCd and a clean QUIT on a
 * shutdown signal, and the exit statuses it shares with the command (2 usage, 120 no sandbox).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runIrcBot } from "../../src/irc/main.ts";
import { EXIT } from "../../src/options/exit-codes.ts";
import { AssetError } from "../../src/sandbox/assets.ts";
import { startNgircd, TestIrcUser } from "../helpers/ngircd.ts";
import { scriptedServer } from "../helpers/scripted-server.ts";
import type { NgircdServer } from "../helpers/ngircd.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

const okRun = {
  stdout: "",
  stderr: "",
  exitCode: 0,
  outcome: "ok" as const,
  fuelUsed: 1,
  wallMs: 1,
  truncated: { stdout: false, stderr: false },
  limits: { ...DEFAULT_LIMITS },
};

describe("runIrcBot", () => {
  let server: NgircdServer;
  before(async () => {
    server = await startNgircd();
  });
  after(async () => {
    await server?.close();
  });

  it("the production entry point parses argv, answers, and QUITs on a shutdown signal", async () => {
    const alice = await TestIrcUser.connect(server.port, "alice", ["#py"]);
    let signal: ((s: string) => void) | undefined;
    const log: string[] = [];
    const exit = runIrcBot({
      argv: [
        "--irc",
        "--server",
        `127.0.0.1:${server.port}`,
        "--nick",
        "mainbot",
        "--channel",
        "#py",
        "--workers",
        "1",
        "--prefix",
        ">>",
        "--timeout",
        "60",
      ],
      onShutdownSignal: (h) => ((signal = h), () => (signal = undefined)),
      log: (l, t) => log.push(`${l} ${t}`),
    });
    try {
      const joined = /^:mainbot!\S+ JOIN :?#py$/i;
      const listed = / 353 \S+ [=*@] #py :(.* )?[~&@%+]?mainbot( |$)/i;
      await alice.waitFor((l) => joined.test(l) || listed.test(l), 60_000);
      let mark = alice.lines.length;
      alice.say("#py", ">> 'hi ' * 2");
      await alice.waitFor((l) => l.endsWith("PRIVMSG #py :alice: 'hi hi '"), 20_000, mark);
      mark = alice.lines.length;
      signal!("SIGTERM");
      assert.equal(await exit, 0);
      assert.match(
        await alice.waitFor((l) => l.startsWith(":mainbot!"), 5000, mark),
        / QUIT :"?wasi-py signing off"?$/,
      );
      assert.ok(log.some((l) => l === "info shutting down (SIGTERM)"));
    } finally {
      signal?.("SIGTERM");
      await exit;
      await alice.quit();
    }
  });

  it("a bad option or setting is one line and exit status 2", async () => {
    assert.equal(await runIrcBot({ argv: ["--irc", "--nick", "x"], log: () => {} }), EXIT.usage); // no --server
    assert.equal(await runIrcBot({ argv: ["--irc", "--no-such-option"], log: () => {} }), EXIT.usage);
    assert.equal(await runIrcBot({ argv: ["--irc", "--server", "h", "--nick", "x", "--timeout", "0"] }), EXIT.usage);
  });

  it("a server that refuses every nick: one error line and exit status 1 after --nick-refusal-limit", async () => {
    const srv = await scriptedServer((line, send) => {
      const nick = /^NICK (\S+)/.exec(line)?.[1];
      if (nick) send(`:srv 432 * ${nick} :Erroneous Nickname`);
    });
    const log: string[] = [];
    try {
      const code = await runIrcBot({
        argv: ["--irc", "--server", `127.0.0.1:${srv.port}`, "--nick", "wasipybot", "--workers", "1"].concat(
          ["--nick-refusal-limit", "4", "--nick-retry-min-ms", "100"],
        ),
        log: (l, t) => log.push(`${l} ${t}`),
        createSandbox: () => Promise.resolve({ run: () => Promise.resolve(okRun), close: () => Promise.resolve() }),
      });
      assert.equal(code, EXIT.botFatal);
      assert.equal(EXIT.botFatal, 1);
      const errors = log.filter((l) => l.startsWith("error "));
      assert.deepEqual(errors.length, 1, log.join("\n"));
      assert.match(errors[0]!, /refused 4 nicks in a row .*choose --nick/);
      assert.equal(srv.received.filter((l) => l.startsWith("NICK")).length, 4);
    } finally {
      await srv.close();
    }
  });

  it("missing assets: exit status 120, as the command", async () => {
    const code = await runIrcBot({
      argv: ["--irc", "--server", `127.0.0.1:${server.port}`, "--nick", "noassets", "--workers", "1"],
      log: () => {},
      createSandbox: () => Promise.reject(new AssetError("no assets/manifest.json: build the assets")),
    });
    assert.equal(code, EXIT.internal);
    assert.equal(EXIT.internal, 120);
  });

  it("a sandbox that does not work: exit status 120 after closing it", async () => {
    let closed = false;
    const code = await runIrcBot({
      argv: ["--irc", "--server", `127.0.0.1:${server.port}`, "--nick", "broken", "--workers", "2"],
      log: () => {},
      createSandbox: () =>
        Promise.resolve({
          run: () => Promise.reject(new Error("worker died")),
          close: () => ((closed = true), Promise.resolve()),
        }),
    });
    assert.deepEqual([code, closed], [EXIT.internal, true]);
  });
});
