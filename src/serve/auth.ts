/**
 * Bearer-token auth: a request carries `Authorization: Bearer TOKEN`, one of the service's tokens
 * (one per line of the token file, one per client, so the rate limit can tell clients apart). The comparison takes the
 * same time wherever the strings differ, so the answer's timing says nothing about the token.
 */

/**
 * Which of `tokens` an Authorization header carries: its index, or -1. Every token is compared,
 * so the time does not say which one matched.
 *
 * @example
 * matchToken("Bearer abcdefghijklmnop", ["abcdefghijklmnop"]); // 0
 * matchToken(undefined, ["abcdefghijklmnop"]); // -1
 */
export function matchToken(header: string | null | undefined, tokens: readonly string[]): number {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  let found = -1;
  if (m === null) return found;
  tokens.forEach((t, i) => {
    if (constantTimeEqual(m[1]!, t) && found < 0) found = i;
  });
  return found;
}

/** String equality in time that depends only on the lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i % (a.length || 1)) | 0) ^ (b.charCodeAt(i % (b.length || 1)) | 0);
  }
  return diff === 0;
}

/**
 * The rate-limit and log key of a client: which token it showed (its line in the token file,
 * never the token itself), or its address when the service has no tokens.
 *
 * @example
 * clientKey(2, "10.0.0.5"); // "token#3"
 */
export function clientKey(tokenIndex: number, address: string): string {
  return tokenIndex >= 0 ? `token#${tokenIndex + 1}` : `addr:${address}`;
}
