// Types for the piston-client npm package (it ships none), as far as the tests use it.
declare module "piston-client" {
  interface PistonRun {
    stdout: string;
    stderr: string;
    output: string;
    code: number | null;
    signal: string | null;
    status: string | null;
  }
  interface PistonClient {
    runtimes(): Promise<{ language: string; version: string; aliases: string[] }[]>;
    execute(language: string, code: string, config?: Record<string, unknown>): Promise<{ run: PistonRun }>;
  }
  export default function piston(opts?: { server?: string }): PistonClient;
}
