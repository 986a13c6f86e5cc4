/**
 * `wasi-py --serve --help`: the service's options, derived from the settings tables.
 */
import { BUNDLED_RUN_LIMITS } from "../options/limits.ts";
import { DEFAULT_LISTEN, SERVE_SETTINGS } from "../options/serve.ts";
import { helpLine } from "../options/spec.ts";
import { PACKAGES_OPTION } from "../options/packages.ts";
import { TOKEN_ENV } from "./config.ts";

/** The help page. */
export function serveHelpText(): string {
  const rows: [string, string][] = [
    ["--listen HOST:PORT", `where to listen (default ${DEFAULT_LISTEN}); beyond loopback a token is required`],
    ["--token-file FILE", `bearer tokens, one per line (one per client); or ${TOKEN_ENV}`],
    ["--cors ORIGIN", "allow browsers from ORIGIN (no CORS headers without it)"],
    ["--config FILE", "JSON settings (keys as below in camelCase; flags win)"],
    [`--${PACKAGES_OPTION.flag} ${PACKAGES_OPTION.valueName}`, PACKAGES_OPTION.help],
    ...[...SERVE_SETTINGS, ...Object.values(BUNDLED_RUN_LIMITS)].map((s): [string, string] => [
      `--${s.flag} ${s.valueName}`,
      helpLine({ ...s, help: s.help.replace(" (library API only)", "") }), // the service takes them all
    ]),
  ];
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return `wasi-py --serve - Python evaluation over HTTP (native, Piston and snekbox APIs)

Usage
  wasi-py --serve [options]

Options
${rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`).join("\n")}

Run limits are each request's default and the most it may ask for.

Routes
  POST /v1/run, POST /v1/batch, GET /v1/info          native API
  GET /api/v2/runtimes, POST /api/v2/execute          Piston v2
  POST /eval                                          snekbox
  GET /healthz (no token), GET /metrics (Prometheus)
`;
}
