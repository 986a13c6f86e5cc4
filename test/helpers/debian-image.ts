/**
 * The Debian package image of the integration test and the packages bench (issue 25): the names
 * in test/fixtures/packages/debian-packages.txt (the one list of what they fetch with apt), the
 * image scripts/build-packages.sh makes of them (kept in build/packages/ under a name derived from
 * the list), and the same .deb files unpacked for native python3.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../src/sandbox/assets.ts";

const ROOT = repoRoot();
const LIST = readFileSync(join(ROOT, "test/fixtures/packages/debian-packages.txt"), "utf8");

/** The short Debian names (python3-NAME), in order. */
export const DEBIAN_NAMES: readonly string[] = LIST.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

/** Where the image of DEBIAN_NAMES is kept. */
export const DEBIAN_IMAGE = join(
  ROOT,
  "build/packages",
  `debian-test-${createHash("sha256").update(LIST).digest("hex").slice(0, 12)}.tar.br`,
);

/** Why the image cannot be built on this machine, or undefined. */
export function missingTools(): string | undefined {
  for (const tool of ["apt-get", "dpkg"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

/** Builds DEBIAN_IMAGE unless it exists (several minutes of CPU: every file is byte-compiled). */
export function ensureDebianImage(): Promise<string> {
  if (existsSync(DEBIAN_IMAGE)) return Promise.resolve(DEBIAN_IMAGE);
  return new Promise((resolve, reject) => {
    execFile(
      join(ROOT, "scripts/build-packages.sh"),
      ["-o", DEBIAN_IMAGE, ...DEBIAN_NAMES],
      { cwd: ROOT, timeout: 1_800_000, maxBuffer: 16 << 20 },
      (err, _stdout, stderr) =>
        err ? reject(new Error(`build-packages.sh failed: ${stderr.slice(-2000)}`)) : resolve(DEBIAN_IMAGE),
    );
  });
}

/** The same .deb files unpacked into a new temporary folder; returns its dist-packages path. */
export function unpackDebsForNative(): string {
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-native-"));
  const debs = DEBIAN_NAMES.map((n) => `python3-${n}`).join(" ");
  const r = spawnSync("bash", [
    "-c",
    `chmod 755 . && apt-get download -q ${debs} >/dev/null && for d in *.deb; do dpkg -x "$d" x; done`,
  ], {
    cwd: dir,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`apt-get download / dpkg -x failed: ${r.stderr.trim().split("\n").pop()}`);
  return join(dir, "x/usr/lib/python3/dist-packages");
}
