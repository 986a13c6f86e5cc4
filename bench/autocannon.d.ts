// autocannon ships no types: bench/serve.ts calls it with a callback and reads the result.
declare module "autocannon" {
  const autocannon: (options: unknown, done: (error: unknown, result: unknown) => void) => unknown;
  export default autocannon;
}
