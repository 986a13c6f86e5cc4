import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { matchesAny, RateLimiter, userKey } from "../../src/irc/access.ts";
import type { RateLimitOptions } from "../../src/irc/access.ts";

const opts: RateLimitOptions = {
  evalsPerWindow: 3,
  windowMs: 60_000,
  adminEvalsPerWindow: 10,
  maxEvalsPerWindow: 5,
  ignore: ["*!*@spam.example", "$a:troll"],
  admins: ["boss!*@admin.example", "$a:Root"],
};
const alice = { nick: "alice", user: "~a", host: "home.example" };

describe("RateLimiter", () => {
  it("allows N per window, then refuses with exactly one notice", () => {
    const r = new RateLimiter(opts);
    for (let i = 0; i < 3; i++) assert.deepEqual(r.check(alice, i * 1000), { allowed: true, admin: false });
    assert.deepEqual(r.check(alice, 5000), { allowed: false, reason: "rate", notify: true, retryInMs: 55_000 });
    assert.deepEqual(r.check(alice, 6000), { allowed: false, reason: "rate", notify: false, retryInMs: 54_000 });
    assert.equal(r.check(alice, 60_001).allowed, true); // first one left the window
  });
  it("notifies again after being let through once more", () => {
    const r = new RateLimiter(opts);
    for (let i = 0; i < 4; i++) r.check(alice, 0);
    for (let i = 0; i < 3; i++) assert.equal(r.check(alice, 60_001).allowed, true);
    const d = r.check(alice, 60_002);
    assert.ok(!d.allowed && d.reason === "rate" && d.notify);
  });
  it("keys by host, so neither a nick change nor another ident resets the limit", () => {
    const r = new RateLimiter(opts);
    for (let i = 0; i < 3; i++) r.check(alice, 0);
    assert.equal(r.check({ ...alice, nick: "alice2" }, 0).allowed, false);
    assert.equal(r.check({ ...alice, user: "~b" }, 0).allowed, false);
    assert.equal(r.check({ ...alice, host: "elsewhere.example" }, 0).allowed, true);
  });
  it("admins get raised limits clamped by the ceiling", () => {
    const r = new RateLimiter(opts);
    const boss = { nick: "boss", user: "x", host: "admin.example" };
    let n = 0;
    while (r.check(boss, 0).allowed) n++;
    assert.equal(n, 5);
    assert.equal(r.limitFor(false), 3);
    const root = { nick: "anyone", user: "x", host: "y", account: "root" };
    assert.deepEqual(r.check(root, 0), { allowed: true, admin: true });
  });
  it("ignores by hostmask and by account, silently", () => {
    const r = new RateLimiter(opts);
    assert.deepEqual(r.check({ nick: "s", user: "u", host: "spam.example" }, 0), { allowed: false, reason: "ignored" });
    assert.deepEqual(r.check({ nick: "t", user: "u", host: "h", account: "TROLL" }, 0), {
      allowed: false,
      reason: "ignored",
    });
  });
  it("prune forgets idle users", () => {
    const r = new RateLimiter(opts);
    for (let i = 0; i < 4; i++) r.check(alice, 0);
    r.prune(120_000);
    assert.equal(r.check(alice, 120_000).allowed, true);
  });
});

describe("identity helpers", () => {
  it("userKey prefers the account", () => {
    assert.equal(userKey({ nick: "a", user: "U", host: "H", account: "Acc" }), "$a:acc");
    assert.equal(userKey({ nick: "a", user: "U", host: "H" }), "@h");
  });
  it("userKey ignores the client-chosen ident: one host is one requester", () => {
    assert.equal(
      userKey({ nick: "a", user: "~x1", host: "h.example" }),
      userKey({ nick: "b", user: "~x2", host: "H.example" }),
    );
  });
  it("account entries need an account", () => {
    assert.equal(matchesAny({ nick: "root" }, ["$a:root"]), false);
  });
});
