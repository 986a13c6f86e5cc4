/**
 * What `npm test` (scripts/test.mjs) decides before it runs anything, as pure functions of what
 * is present: which real peers (Debian packages) are missing, whether and how to install them, and
 * how to read a test file's summary. Kept apart from the runner's effects so that a table can test
 * every case (test/scripts/test-plan.test.ts) without removing a package from the machine. Plain
 * JavaScript, because the runner starts before anything is compiled.
 */

/**
 * The programs the tests start as real peers, by Debian package. `bin` is looked up on PATH and in
 * the usual system folders (a non-root PATH often lacks /usr/sbin).
 */
export const PEERS = [
  { deb: "ngircd", bin: "ngircd", why: "the IRC bot's tests against a real server" },
  { deb: "inspircd", bin: "inspircd", why: "the IRC flood and SASL tests (InspIRCd 3)" },
  { deb: "atheme-services", bin: "atheme-services", why: "SASL accounts for InspIRCd" },
  { deb: "openssl", bin: "openssl", why: "the test CA and certificates for IRC over TLS" },
  { deb: "haproxy", bin: "haproxy", why: "the HTTP service's tests behind a proxy" },
  { deb: "python3-pip", bin: "pip3", why: "the PyPI recipe's own `pip download` step (test/packages/pypi-recipe)" },
];

/** Folders searched for a peer's program besides PATH. */
export const SYSTEM_BIN_DIRS = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

/**
 * The Debian packages whose program is absent.
 *
 * @param {(bin: string) => boolean} isPresent whether a program can be found
 * @param {readonly { deb: string, bin: string }[]} [peers]
 * @returns {string[]} package names, in PEERS order
 * @example missingPeers((b) => b !== "haproxy"); // ["haproxy"]
 */
export function missingPeers(isPresent, peers = PEERS) {
  return peers.filter((p) => !isPresent(p.bin)).map((p) => p.deb);
}

/**
 * The apt-get commands that install `debs`, each an argv, prefixed with `sudo -n` unless root.
 *
 * @param {readonly string[]} debs
 * @param {boolean} asRoot
 * @returns {string[][]}
 */
export function aptCommands(debs, asRoot) {
  const sudo = asRoot ? [] : ["sudo", "-n"];
  return [
    [...sudo, "apt-get", "update", "-qq"],
    [
      ...sudo,
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      ...debs,
    ],
  ];
}

/** One argv as a shell line (for messages: quoted only where needed). */
export function shellLine(argv) {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}

/**
 * What to do about missing peers.
 *
 * @param {{ missing: readonly string[], isRoot: boolean, hasSudo: boolean, hasAptGet: boolean, install: boolean }} state
 *   `hasSudo`: passwordless sudo works; `install`: installing is allowed (WASI_PY_TEST_NO_INSTALL unset)
 * @returns {{ action: "none" } | { action: "install", commands: string[][] } | { action: "stop", message: string }}
 * @example peerPlan({ missing: [], isRoot: false, hasSudo: false, hasAptGet: true, install: true }); // { action: "none" }
 */
export function peerPlan(state) {
  const { missing, isRoot, hasSudo, hasAptGet, install } = state;
  if (missing.length === 0) return { action: "none" };
  const list = missing.join(" ");
  if (!hasAptGet) {
    return {
      action: "stop",
      message:
        `npm test: missing ${list} (real peers of the tests) and no apt-get here: install them, then run npm test again`,
    };
  }
  const manual = `sudo apt-get install -y --no-install-recommends ${list}`;
  if (!install) {
    return { action: "stop", message: `npm test: missing ${list} (WASI_PY_TEST_NO_INSTALL is set): run \`${manual}\`` };
  }
  if (!isRoot && !hasSudo) {
    return {
      action: "stop",
      message: `npm test: missing ${list} and not root (no passwordless sudo): run \`${manual}\``,
    };
  }
  return { action: "install", commands: aptCommands(missing, isRoot) };
}

/**
 * Whether to refresh apt's package lists for the package-image test (test/packages/debian.test.ts
 * downloads `python3-*` .deb files with `apt-get download`): only when the lists do not know them
 * (a fresh machine whose lists were never fetched) and we may run apt-get. Installing peers already
 * runs `apt-get update`, so this matters only when every peer is present.
 *
 * @param {{ listsKnowPackages: boolean, peersInstalled: boolean, isRoot: boolean, hasSudo: boolean, hasAptGet: boolean, install: boolean }} state
 * @returns {string[][]} the commands to run (none, or one `apt-get update`)
 * @example listsPlan({ listsKnowPackages: false, peersInstalled: false, isRoot: true, hasSudo: false, hasAptGet: true, install: true }); // [["apt-get", "update", "-qq"]]
 */
export function listsPlan(state) {
  const { listsKnowPackages, peersInstalled, isRoot, hasSudo, hasAptGet, install } = state;
  if (listsKnowPackages || peersInstalled || !hasAptGet || !install || !(isRoot || hasSudo)) return [];
  return [aptCommands([], isRoot)[0]];
}

/**
 * The tests a file skipped, one line each, so that the runner shows why (a passing file's output is
 * not printed): Node's TAP `ok N - name # SKIP reason`, Deno's `name ... ignored` (colour codes removed).
 *
 * @param {"node" | "deno"} runtime
 * @param {string} output the file's stdout and stderr
 * @returns {string[]}
 * @example skipNotes("node", "ok 2 - b # SKIP no ngircd\n"); // ["b: no ngircd"]
 */
export function skipNotes(runtime, output) {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const re = runtime === "node" ? /^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm : /^\s*(.*?) \.\.\. ignored\b.*$/gm;
  return [...plain.matchAll(re)].map((m) => (m[2] ? `${m[1]}: ${m[2]}` : m[1]));
}

/**
 * Counts from a test file's output: Node's TAP summary (`# pass 3`) or Deno's last result line
 * (`ok | 3 passed (5 steps) | 0 failed | 1 ignored`). Missing numbers are 0; `found` says whether
 * a summary was there at all (a file that crashed before it has none).
 *
 * @param {"node" | "deno"} runtime
 * @param {string} output the file's stdout and stderr
 * @returns {{ passed: number, failed: number, skipped: number, found: boolean }}
 */
export function parseCounts(runtime, output) {
  if (runtime === "node") {
    const get = (name) => {
      const m = new RegExp(`^# ${name} (\\d+)$`, "m").exec(output);
      return m === null ? undefined : Number(m[1]);
    };
    const pass = get("pass");
    const failed = (get("fail") ?? 0) + (get("cancelled") ?? 0);
    return {
      passed: pass ?? 0,
      failed,
      skipped: (get("skipped") ?? 0) + (get("todo") ?? 0),
      found: pass !== undefined,
    };
  }
  // deno: the last "ok | ..." or "FAILED | ..." line; steps are counted with their tests.
  const lines = output.split("\n").filter((l) => /^(ok|FAILED) \| /.test(l.replace(/\x1b\[[0-9;]*m/g, "")));
  if (lines.length === 0) return { passed: 0, failed: 0, skipped: 0, found: false };
  const line = lines[lines.length - 1].replace(/\x1b\[[0-9;]*m/g, "");
  const num = (re) => {
    const m = re.exec(line);
    return m === null ? 0 : Number(m[1]);
  };
  return {
    passed: num(/(\d+) passed/) + num(/passed \((\d+) steps?\)/),
    failed: num(/(\d+) failed/) + num(/failed \((\d+) steps?\)/),
    skipped: num(/(\d+) ignored/) + num(/ignored \((\d+) steps?\)/),
    found: true,
  };
}

/**
 * Parses bash's `times` output (two lines: the shell's, then its children's user and system
 * time, e.g. `0m1.250s 0m0.040s`) into the children's CPU seconds.
 *
 * @param {string} text
 * @returns {number | undefined}
 */
export function childCpuSeconds(text) {
  const lines = text.trim().split("\n");
  if (lines.length < 2) return undefined;
  const parts = [...lines[1].matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length !== 2) return undefined;
  return parts.reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

/**
 * Orders files longest first (by the last run's seconds, unknown ones first: they may be long),
 * so that two slots finish close together.
 *
 * @param {readonly string[]} files
 * @param {Record<string, number>} lastSeconds
 * @returns {string[]}
 */
export function longestFirst(files, lastSeconds) {
  const cost = (f) => lastSeconds[f] ?? Infinity;
  return [...files].sort((a, b) => cost(b) - cost(a) || a.localeCompare(b));
}
