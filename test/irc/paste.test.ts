/**
 * The paste client against an untrusted service (issue 21 item 15): the link must be printable
 * ASCII URL text (a table of C0/C1/bidi controls, schemes and shapes), a redirect is an error and
 * is not followed, and the answer is read only up to the link's line or 4 KiB, so a service that
 * sends an endless body (or holds it open) still gives its link at once.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { linkFromAnswer, MAX_ANSWER_BYTES, pasteClient, PasteError } from "../../src/irc/paste.ts";
import { FakeClock } from "./fake-clock.ts";

describe("linkFromAnswer: printable ASCII http(s) URL text only", () => {
  const good: Array<[string, string]> = [
    ["https://paste.example/p/1\n", "https://paste.example/p/1"],
    ["  http://127.0.0.1:8080/p/2?x=1#y \r\nmore", "http://127.0.0.1:8080/p/2?x=1#y"],
    ["HTTPS://PASTE.EXAMPLE/A", "HTTPS://PASTE.EXAMPLE/A"],
  ];
  for (const [answer, link] of good) it(JSON.stringify(answer), () => assert.equal(linkFromAnswer(answer), link));
  const bad: string[] = [
    "https://paste.example/\u0085p", // C1 NEL
    "https://paste.example/\u009bp", // C1 CSI
    "https://paste.example/\u202ep", // bidi RLO
    "https://paste.example/\u2066p", // bidi isolate
    "https://paste.example/\u200fp", // RLM
    "https://paste.example/\u0001p", // C0
    "https://paste.example/\x7fp", // DEL
    "https://paste.example/\u00e9", // not ASCII
    "https://paste.example/a b",
    "https://paste.example/a\tb",
    "\u2028https://paste.example/p",
    "javascript:alert(1)",
    "ftp://paste.example/p",
    "data:text/plain,x",
    "https://",
    "https:///p",
    "https://paste.example/" + "a".repeat(200),
    "",
    "not a link",
  ];
  for (const answer of bad) {
    it(`refuses ${JSON.stringify(answer)}`, () => assert.equal(linkFromAnswer(answer), undefined));
  }
});

/** A local paste service whose every answer `handler` writes; returns its URL, the paths asked and a close. */
async function service(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const paths: string[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    paths.push(req.url ?? "");
    open.add(res);
    req.resume();
    req.on("end", () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("pasteClient against an untrusted service", () => {
  it("a redirect is an error and is not followed", async () => {
    const s = await service((req, res) => {
      if (req.url === "/paste") res.writeHead(302, { location: "/elsewhere" }).end();
      else res.writeHead(201).end("http://127.0.0.1/p/1\n");
    });
    try {
      await assert.rejects(pasteClient(`${s.url}/paste`, 5000)("text"), (e: unknown) => {
        assert.ok(e instanceof PasteError);
        assert.match(e.message, /answered 302 \(redirects are not followed\)$/);
        return true;
      });
      assert.deepEqual(s.paths, ["/paste"]);
    } finally {
      await s.close();
    }
  });
  it("an endless answer: the link comes at once, the rest is not read", async () => {
    let written = 0;
    const s = await service((_req, res) => {
      res.writeHead(201, { "content-type": "text/plain" });
      res.write("http://127.0.0.1/p/2\n");
      const chunk = "x".repeat(64 * 1024);
      const more = () => {
        if (res.destroyed || written > 64 * 1024 * 1024) return;
        written += chunk.length;
        if (res.write(chunk)) setImmediate(more);
        else res.once("drain", more);
      };
      more();
    });
    try {
      assert.equal(await pasteClient(`${s.url}/paste`, 20_000)("text"), "http://127.0.0.1/p/2");
    } finally {
      await s.close();
    }
    assert.ok(written < 64 * 1024 * 1024, `the client read on: ${written} bytes written`);
  });
  it("an answer held open after its link line: the link comes without waiting for the end", async () => {
    const s = await service((_req, res) => {
      res.writeHead(200);
      res.write("https://127.0.0.1/p/3\n"); // and never end
    });
    try {
      assert.equal(await pasteClient(`${s.url}/paste`, 20_000)("text"), "https://127.0.0.1/p/3");
    } finally {
      await s.close();
    }
  });
  it(`a first line longer than ${MAX_ANSWER_BYTES} bytes is no link`, async () => {
    const s = await service((_req, res) => {
      res.writeHead(200);
      res.write("https://127.0.0.1/" + "a".repeat(MAX_ANSWER_BYTES)); // and never end
    });
    try {
      await assert.rejects(pasteClient(`${s.url}/paste`, 20_000)("text"), /did not answer with a link/);
    } finally {
      await s.close();
    }
  });
  it("a link with a C1 or bidi control is refused", async () => {
    const s = await service((_req, res) => res.writeHead(201).end("https://127.0.0.1/\u202ep/4\n"));
    try {
      await assert.rejects(pasteClient(`${s.url}/paste`, 5000)("text"), /did not answer with a link/);
    } finally {
      await s.close();
    }
  });
  it("a service that never answers: the time limit runs on the injected timers, not the wall clock", async () => {
    const s = await service(() => {}); // holds every request open
    const clock = new FakeClock();
    try {
      const pasted = pasteClient(`${s.url}/paste`, 5000, clock)("text");
      const outcome = pasted.then(() => "a link", (e: unknown) => e);
      assert.equal(clock.pendingTimers, 1, "the time limit is a timer of the injected clock");
      await clock.tick(4999);
      assert.equal(await Promise.race([outcome, Promise.resolve("pending")]), "pending");
      await clock.tick(1);
      const e = await outcome;
      assert.ok(e instanceof PasteError, `expected a PasteError, got ${String(e)}`);
      assert.match(e.message, /^no answer from http:\/\/127\.0\.0\.1:\d+\/paste within 5000 ms$/);
      assert.equal(clock.pendingTimers, 0, "the timer is cleared once the paste is settled");
    } finally {
      await s.close();
    }
  });
});
