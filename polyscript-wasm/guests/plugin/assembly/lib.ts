// Helpers shared by the guest's entry files (plugin.ts, host.ts): input and
// output through the Extism PDK, errors, and a JSON scanner that slices raw
// values out of the input (so values come back byte for byte).
import { Host, Memory } from "@extism/as-pdk";
import { alloc, error_set, output_set, store_u64, store_u8 } from "@extism/as-pdk/lib/env";
import { JSON } from "json-as";

/// AssemblyScript's `abort` (failed assertions, out-of-range access, a
/// failed allocation): report the message as the Extism error and trap. The
/// Extism host has no `env.abort`, so the build maps `abort` here
/// (`--use abort=assembly/lib/myAbort`).
export function myAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32,
): void {
  const msg = message !== null ? message : "abort";
  const file = fileName !== null ? fileName : "?";
  setError(msg + " (" + file + ":" + lineNumber.toString() + ":" + columnNumber.toString() + ")");
  unreachable();
}

export function setError(message: string): void {
  const mem = Memory.allocateString(message);
  error_set(mem.offset);
}

/// Writes `s` as UTF-8 (the PDK's `Host.outputString` uses the UTF-16
/// length and truncates non-ASCII text).
export function output(s: string): void {
  Host.output(Uint8Array.wrap(String.UTF8.encode(s)));
}

/// Writes `b` as the output. (`Host.output` copies from the start of the
/// array's buffer, ignoring its offset, so a subarray would come out wrong.)
export function outputBytes(b: Uint8Array): void {
  const len = <u64>b.length;
  const offset = alloc(len);
  const base = b.dataStart;
  let i: u64 = 0;
  for (; i + 8 <= len; i += 8) store_u64(offset + i, load<u64>(base + <usize>i));
  for (; i < len; i++) store_u8(offset + i, load<u8>(base + <usize>i));
  output_set(offset, len);
}

export function inputText(): string {
  return Host.inputString();
}

export function isObjectText(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 32 || c == 9 || c == 10 || c == 13) continue;
    return c == 123; // '{'
  }
  return false;
}

/// A string field of an object, or null when missing or not a string.
export function stringField(obj: JSON.Obj, key: string): string | null {
  if (!obj.has(key)) return null;
  const v = obj.get(key)!;
  if (v.type != JSON.Types.String) return null;
  return v.get<string>();
}

/// `{"input": s}` or `{"name": s}`'s string, else the raw input text (a JSON
/// string is unquoted).
export function textArgument(): string {
  const text = inputText();
  if (isObjectText(text)) {
    const obj = JSON.parse<JSON.Obj>(text);
    const s = stringField(obj, "input");
    if (s !== null) return s;
    const n = stringField(obj, "name");
    if (n !== null) return n;
    return "";
  }
  if (text.length > 0 && text.charCodeAt(0) == 34) return JSON.parse<string>(text);
  return text;
}

/// The raw JSON text of a top-level field of the input object, or null.
/// Scans the text instead of re-serialising a parsed value, so numbers,
/// strings and nesting come back byte for byte.
export function rawField(text: string, key: string): string | null {
  let i = skipWs(text, 0);
  if (i >= text.length || text.charCodeAt(i) != 123) return null;
  i = skipWs(text, i + 1);
  while (i < text.length && text.charCodeAt(i) != 125) {
    const keyEnd = skipValue(text, i);
    const k = JSON.parse<string>(text.substring(i, keyEnd));
    i = skipWs(text, keyEnd);
    if (text.charCodeAt(i) != 58) return null; // ':'
    i = skipWs(text, i + 1);
    const valueEnd = skipValue(text, i);
    if (k == key) return text.substring(i, valueEnd);
    i = skipWs(text, valueEnd);
    if (text.charCodeAt(i) == 44) i = skipWs(text, i + 1); // ','
  }
  return null;
}

export function skipWs(text: string, i: i32): i32 {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c != 32 && c != 9 && c != 10 && c != 13) break;
    i++;
  }
  return i;
}

/// The index just past the JSON value starting at `i`.
export function skipValue(text: string, i: i32): i32 {
  const c = text.charCodeAt(i);
  if (c == 34) {
    i++;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d == 92) i += 2;
      else if (d == 34) return i + 1;
      else i++;
    }
    return i;
  }
  if (c == 123 || c == 91) {
    let depth = 0;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d == 34) {
        i = skipValue(text, i);
        continue;
      }
      if (d == 123 || d == 91) depth++;
      else if (d == 125 || d == 93) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d == 44 || d == 125 || d == 93 || d == 32 || d == 10 || d == 13 || d == 9) break;
    i++;
  }
  return i;
}

// The same scanner over UTF-8 bytes, for large inputs: no UTF-16 copy (a
// 10 MB string would take 20 MB as an AssemblyScript string, and more to
// parse).

function skipWsB(b: Uint8Array, i: i32): i32 {
  while (i < b.length) {
    const c = b[i];
    if (c != 32 && c != 9 && c != 10 && c != 13) break;
    i++;
  }
  return i;
}

function skipValueB(b: Uint8Array, i: i32): i32 {
  const c = b[i];
  if (c == 34) {
    i++;
    while (i < b.length) {
      const d = b[i];
      if (d == 92) i += 2;
      else if (d == 34) return i + 1;
      else i++;
    }
    return i;
  }
  if (c == 123 || c == 91) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i];
      if (d == 34) {
        i = skipValueB(b, i);
        continue;
      }
      if (d == 123 || d == 91) depth++;
      else if (d == 125 || d == 93) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < b.length) {
    const d = b[i];
    if (d == 44 || d == 125 || d == 93 || d == 32 || d == 10 || d == 13 || d == 9) break;
    i++;
  }
  return i;
}

/// Whether the key literal b[start, end) (quotes included) is `key`.
function keyIs(b: Uint8Array, start: i32, end: i32, key: Uint8Array): bool {
  const raw = b.subarray(start + 1, end - 1);
  let escaped = false;
  for (let i = 0; i < raw.length; i++) if (raw[i] == 92) escaped = true;
  if (escaped) {
    const text = String.UTF8.decode(b.slice(start, end).buffer);
    return JSON.parse<string>(text) == String.UTF8.decode(key.slice(0).buffer);
  }
  if (raw.length != key.length) return false;
  for (let i = 0; i < raw.length; i++) if (raw[i] != key[i]) return false;
  return true;
}

/// The raw JSON bytes of a top-level field of the object in `b`, or null.
export function rawFieldBytes(b: Uint8Array, key: string): Uint8Array | null {
  const k = Uint8Array.wrap(String.UTF8.encode(key));
  let i = skipWsB(b, 0);
  if (i >= b.length || b[i] != 123) return null;
  i = skipWsB(b, i + 1);
  while (i < b.length && b[i] != 125) {
    const keyEnd = skipValueB(b, i);
    const matches = keyIs(b, i, keyEnd, k);
    i = skipWsB(b, keyEnd);
    if (i >= b.length || b[i] != 58) return null; // ':'
    i = skipWsB(b, i + 1);
    const valueEnd = skipValueB(b, i);
    if (matches) return b.subarray(i, valueEnd);
    i = skipWsB(b, valueEnd);
    if (i < b.length && b[i] == 44) i = skipWsB(b, i + 1); // ','
  }
  return null;
}

/// `{"n": <integer>}` or a bare integer.
export function intArgument(): i64 {
  const text = inputText();
  const raw = isObjectText(text) ? rawField(text, "n") : text;
  if (raw === null || raw.length == 0) return 0;
  return I64.parseInt(raw);
}

export function intField(key: string): i64 {
  const raw = rawField(inputText(), key);
  if (raw === null || raw.length == 0) return 0;
  return I64.parseInt(raw);
}
