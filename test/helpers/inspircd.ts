/**
 * Starts a throw-away InspIRCd 3 (and, when asked, Atheme services linked to it for real SASL)
 * on free loopback ports for the IRC tests. The bot's port uses InspIRCd's DEFAULT connect class
 * (no limits set: about one command a second with fakelag, a small recvq), the port the test
 * users take has a generous class so the tests' own traffic is never the one penalised.
 * Fails loudly when a binary is missing: `npm test` installs them (scripts/test.mjs), and a silent skip would
 * hide that the bot was never tested against this server.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort, TestIrcUser } from "./ngircd.ts";

/** A running InspIRCd (and Atheme, when started with services). */
export interface InspircdServer {
  /** Port with the default connect class (the bot's). */
  port: number;
  /** Port with a generous class (the test users'). */
  userPort: number;
  dir: string;
  /** The InspIRCd log so far (quits with their reasons: "Excess Flood", "RecvQ exceeded"). */
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Atheme, when started with `services: true`. */
  services?: { stop(): Promise<void>; start(): Promise<void> };
  close(): Promise<void>;
}

function findBinary(name: string, extra: string[]): string | undefined {
  for (const p of extra) if (existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function require_(name: string, deb: string, extra: string[]): string {
  const bin = findBinary(name, extra);
  if (!bin) {
    throw new Error(
      `${name} is not installed: the IRC tests need it. Install it with \`apt-get install -y ${deb}\` (\`npm test\` does this).`,
    );
  }
  return bin;
}

const LINK_PASSWORD = "wasipy-link";

function inspircdConf(
  dir: string,
  port: number,
  userPort: number,
  linkPort: number,
  services: boolean,
  maxNick: number,
): string {
  return [
    `<server name="irc.test" description="wasi-py test server" id="0AA" network="TestNet">`,
    `<admin name="tests" nick="tests" email="nobody@invalid">`,
    `<bind address="127.0.0.1" port="${port}" type="clients">`,
    `<bind address="127.0.0.1" port="${userPort}" type="clients">`,
    `<bind address="127.0.0.1" port="${linkPort}" type="servers">`,
    // The test users: never penalised, so only the bot's pacing is under test.
    `<connect name="testusers" allow="*" port="${userPort}" threshold="100000" commandrate="1000000" recvq="1048576"` +
    ` softsendq="1048576" hardsendq="8388608" localmax="10000" globalmax="10000" useident="no" resolvehostnames="no">`,
    // The bot: InspIRCd's default limits (threshold, commandrate, fakelag, recvq, sendq not set).
    `<connect name="main" allow="*" port="${port}" localmax="10000" globalmax="10000" useident="no" resolvehostnames="no">`,
    `<pid file="${join(dir, "inspircd.pid")}">`,
    `<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${join(dir, "ircd.log")}">`,
    `<files motd="${join(dir, "motd")}">`,
    `<dns timeout="1">`,
    `<performance clonesonconnect="no" quietbursts="yes">`,
    `<limits maxnick="${maxNick}">`,
    `<module name="cap">`,
    `<module name="ircv3">`,
    `<module name="ircv3_accounttag">`,
    `<module name="services_account">`,
    `<module name="spanningtree">`,
    ...(services
      ? [
        `<module name="sasl">`,
        `<link name="services.test" ipaddr="127.0.0.1" port="${linkPort}" allowmask="127.0.0.0/8"` +
        ` sendpass="${LINK_PASSWORD}" recvpass="${LINK_PASSWORD}">`,
        `<uline server="services.test" silent="yes">`,
        `<sasl target="services.test">`,
      ]
      : []),
    "",
  ].join("\n");
}

function athemeConf(linkPort: number): string {
  const mods = [
    "protocol/inspircd",
    "backend/opensex",
    "crypto/pbkdf2v2",
    "nickserv/main",
    "nickserv/register",
    "nickserv/identify",
    "saslserv/main",
    "saslserv/plain",
  ];
  return [
    ...mods.map((m) => `loadmodule "modules/${m}";`),
    `serverinfo { name = "services.test"; desc = "wasi-py test services"; numeric = "00A"; recontime = 1;`,
    `  netname = "TestNet"; hidehostsuffix = "users.test"; adminname = "tests"; adminemail = "nobody@invalid";`,
    `  registeremail = "nobody@invalid"; auth = none; casemapping = rfc1459; };`,
    `uplink "irc.test" { host = "127.0.0.1"; port = ${linkPort}; send_password = "${LINK_PASSWORD}";`,
    `  receive_password = "${LINK_PASSWORD}"; };`,
    `general { helpchan = "#help"; permissive_mode = no; maxlogins = 10; maxusers = 100; maxchans = 100;`,
    `  commit_interval = 1; default_clone_allowed = 1000; default_clone_warn = 1000;`,
    `  uplink_sendq_limit = 1048576; flood_msgs = 10000; flood_time = 1; };`,
    `nickserv { nick = "NickServ"; user = "NickServ"; host = "services.test"; real = "Nickname Services";`,
    `  maxnicks = 5; spam = no; };`,
    `saslserv { nick = "SaslServ"; user = "SaslServ"; host = "services.test"; real = "SASL Agent"; };`,
    `database { };`,
    "",
  ].join("\n");
}

/** A child process with its output collected, started and stopped on demand. */
function daemon(
  bin: string,
  args: string[],
  ready: (out: string) => Promise<boolean>,
  what: string,
  stopSignal: NodeJS.Signals = "SIGKILL",
) {
  let child: ChildProcess | undefined;
  let out = "";
  const start = async () => {
    out = "";
    const c = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    c.stdout?.on("data", (d) => (out += d));
    c.stderr?.on("data", (d) => (out += d));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`${what} exited at start (code ${c.exitCode}):\n${out}`);
      if (await ready(out)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    c.kill("SIGKILL");
    throw new Error(`${what} did not become ready within 20 s:\n${out}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
      c.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      c.kill(stopSignal);
    });
  };
  return { start, stop, output: () => out };
}

/**
 * Starts InspIRCd (as root it needs --runasroot) and, with `services`, Atheme linked to it;
 * `maxNick` sets the server's nick length (default 30).
 *
 * @example
 * const s = await startInspircd({ services: true });
 * await registerAccount(s.userPort, "pybot", "secret");
 */
export async function startInspircd(opts: { services?: boolean; maxNick?: number } = {}): Promise<InspircdServer> {
  const ircd = require_("inspircd", "inspircd", ["/usr/sbin/inspircd"]);
  const atheme = opts.services ? require_("atheme-services", "atheme-services", ["/usr/bin/atheme-services"]) : "";
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-inspircd-"));
  const [port, userPort, linkPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, "motd"), "wasi-py test server\n");
  const conf = join(dir, "inspircd.conf");
  writeFileSync(conf, inspircdConf(dir, port, userPort, linkPort, !!opts.services, opts.maxNick ?? 30));
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const ircdArgs = ["--nofork", "--nopid", `--config=${conf}`, ...(root ? ["--runasroot"] : [])];
  const server = daemon(ircd, ircdArgs, async () => await canConnect(port) && await canConnect(userPort), "inspircd");
  await server.start();
  let services: ReturnType<typeof daemon> | undefined;
  if (opts.services) {
    const data = join(dir, "atheme");
    mkdirSync(data);
    writeFileSync(join(dir, "atheme.conf"), athemeConf(linkPort));
    const args = [
      "-n",
      "-c",
      join(dir, "atheme.conf"),
      "-D",
      data,
      "-l",
      join(data, "atheme.log"),
      "-p",
      join(data, "pid"),
    ];
    // SIGTERM: Atheme saves its database on the way out, as in a real services restart.
    services = daemon(
      atheme,
      args,
      (out) => Promise.resolve(/finished synching with uplink/.test(out)),
      "atheme-services",
      "SIGTERM",
    );
    await services.start();
  }
  const readLog = () => {
    try {
      return readFileSync(join(dir, "ircd.log"), "utf8");
    } catch {
      return "";
    }
  };
  return {
    port,
    userPort,
    dir,
    log: readLog,
    start: server.start,
    stop: server.stop,
    services: services && { start: services.start, stop: services.stop },
    close: async () => {
      await services?.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers a services account through NickServ (Atheme), from a throw-away user on `port`.
 *
 * @example
 * await registerAccount(server.userPort, "pybot", "secret");
 */
export async function registerAccount(port: number, account: string, password: string): Promise<void> {
  const u = await TestIrcUser.connect(port, account);
  try {
    u.say("NickServ", `REGISTER ${password} ${account}@example.invalid`);
    await u.waitFor((l) => /NickServ.*NOTICE .* :.*registered/i.test(l), 10_000);
  } finally {
    await u.quit();
  }
}
