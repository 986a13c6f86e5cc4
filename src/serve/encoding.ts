/**
 * File contents as the APIs carry them in JSON: base64 (snekbox, Piston, native), hex and utf8
 * (Piston). Strict decoders (a malformed value is a 400, never silently different bytes) built on
 * atob/btoa, which every runtime has.
 */
import { badRequest } from "./errors.ts";

/** Piston's file encodings. */
export type FileEncoding = "utf8" | "base64" | "hex";

/**
 * Bytes → base64.
 *
 * @example
 * toBase64(new Uint8Array([104, 105])); // "aGk="
 */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * base64 → bytes; HttpError 400 naming `what` when it is not base64.
 *
 * @example
 * fromBase64("aGk=", "files[0].content"); // Uint8Array [104, 105]
 */
export function fromBase64(text: string, what: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) throw badRequest(`${what} is not base64`);
  let binary: string;
  try {
    binary = atob(clean);
  } catch {
    throw badRequest(`${what} is not base64`);
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * hex → bytes; HttpError 400 naming `what` when it is not hex.
 *
 * @example
 * fromHex("6869", "files[0].content"); // Uint8Array [104, 105]
 */
export function fromHex(text: string, what: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw badRequest(`${what} is not hex`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A file's content in one of the encodings → bytes (utf8 stays text: the sandbox encodes it).
 *
 * @example
 * decodeContent("aGk=", "base64", "files[0]"); // Uint8Array [104, 105]
 */
export function decodeContent(content: unknown, encoding: unknown, what: string): string | Uint8Array {
  if (typeof content !== "string") throw badRequest(`${what}.content must be a string`);
  switch (encoding ?? "utf8") {
    case "utf8":
      return content;
    case "base64":
      return fromBase64(content, `${what}.content`);
    case "hex":
      return fromHex(content, `${what}.content`);
    default:
      throw badRequest(`${what}.encoding must be one of utf8, base64, hex`);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes that must be UTF-8 program text; HttpError 400 naming `what` otherwise. */
export function programText(content: string | Uint8Array, what: string): string {
  if (typeof content === "string") return content;
  try {
    return strictUtf8.decode(content);
  } catch {
    throw badRequest(`${what} is not UTF-8 text`);
  }
}
