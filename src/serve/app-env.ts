/**
 * The Hono environment the service's app and routes share: what the middleware learns about a
 * request (its client key, the API it used, the run's outcome) for the log line and the metrics.
 */

/** Per-request variables. */
export interface AppVariables {
  /** The client's rate-limit key: `token#N` or `addr:IP`. */
  client: string;
  /** How the run ended, when the request ran one. */
  outcome: string;
}

/** What the listener passes with each request. */
export interface AppBindings {
  /** The client's address. */
  address: string;
}

/** The app's Hono env type. */
export interface AppEnv {
  Bindings: AppBindings;
  Variables: AppVariables;
}
