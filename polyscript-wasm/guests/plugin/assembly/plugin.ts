// The Extism plugin used by polyscript-wasm's tests and examples.
//
// Every export reads the host's input (the merged data as JSON bytes) and
// writes its result as UTF-8 JSON. See ../README.md for each export's
// input and output shapes.
import { Host, Config, Memory } from "@extism/as-pdk";
import { error_set, http_request, length } from "@extism/as-pdk/lib/env";
import { JSON } from "json-as";

// ---------------------------------------------------------------- helpers

/// AssemblyScript's `abort` (failed assertions, out-of-range access): report
/// the message as the Extism error and trap. The Extism host has no
/// `env.abort`, so the build maps `abort` here (`--use abort=...`).
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

function setError(message: string): void {
  const mem = Memory.allocateString(message);
  error_set(mem.offset);
}

function output(s: string): void {
  Host.output(Uint8Array.wrap(String.UTF8.encode(s)));
}

function inputText(): string {
  return Host.inputString();
}

/// The input as a JSON object, or null when it is not one.
function inputObject(): JSON.Obj | null {
  const text = inputText();
  if (!isObjectText(text)) return null;
  return JSON.parse<JSON.Obj>(text);
}

function isObjectText(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 32 || c == 9 || c == 10 || c == 13) continue;
    return c == 123; // '{'
  }
  return false;
}

/// A string field of an object, or null when missing or not a string.
function stringField(obj: JSON.Obj, key: string): string | null {
  if (!obj.has(key)) return null;
  const v = obj.get(key)!;
  if (v.type != JSON.Types.String) return null;
  return v.get<string>();
}

/// `{"input": s}` or `{"name": s}`'s string, else the raw input text (a JSON
/// string is unquoted).
function textArgument(): string {
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
function rawField(text: string, key: string): string | null {
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

function skipWs(text: string, i: i32): i32 {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c != 32 && c != 9 && c != 10 && c != 13) break;
    i++;
  }
  return i;
}

/// The index just past the JSON value starting at `i`.
function skipValue(text: string, i: i32): i32 {
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

/// `{"n": <integer>}` or a bare integer.
function intArgument(): i64 {
  const text = inputText();
  const raw = isObjectText(text) ? rawField(text, "n") : text;
  if (raw === null || raw.length == 0) return 0;
  return I64.parseInt(raw);
}

// ---------------------------------------------------------- the go-polyscript set

@json
class Greeting {
  greeting: string = "";
}

@json
class GreetingWithLength {
  greeting: string = "";
  length: i32 = 0;
}

/// {"input": "World"} → {"greeting": "Hello, World!"};
/// {"name": "World"} → {"greeting": "Hello, World!", "length": 13}.
export function greet(): i32 {
  const text = inputText();
  const obj = isObjectText(text) ? JSON.parse<JSON.Obj>(text) : new JSON.Obj();
  const name = stringField(obj, "name");
  if (name !== null) {
    const out = new GreetingWithLength();
    out.greeting = "Hello, " + name + "!";
    out.length = String.UTF8.byteLength(out.greeting);
    output(JSON.stringify(out));
    return 0;
  }
  const input = stringField(obj, "input");
  const out = new Greeting();
  out.greeting = "Hello, " + (input !== null ? input : "World") + "!";
  output(JSON.stringify(out));
  return 0;
}

@json
class VowelCount {
  count: i32 = 0;
  vowels: string = "aeiouAEIOU";
  input: string = "";
}

/// {"input": s} (or a raw string) → {"count": n, "vowels": "aeiouAEIOU", "input": s}.
export function count_vowels(): i32 {
  const s = textArgument();
  const out = new VowelCount();
  out.input = s;
  for (let i = 0; i < s.length; i++) {
    if (out.vowels.indexOf(s.charAt(i)) >= 0) out.count++;
  }
  output(JSON.stringify(out));
  return 0;
}

@json
class Reversed {
  reversed: string = "";
  input: string = "";
}

/// {"input": s} (or a raw string) → {"reversed": <s reversed by code point>, "input": s}.
export function reverse_string(): i32 {
  const s = textArgument();
  const points = new Array<i32>();
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i);
    points.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  let r = "";
  for (let j = points.length - 1; j >= 0; j--) r += String.fromCodePoint(points[j]);
  const out = new Reversed();
  out.reversed = r;
  out.input = s;
  output(JSON.stringify(out));
  return 0;
}

@json
class User {
  name: string = "";
  email: string = "";
}

@json
class Item {
  name: string = "";
  quantity: i64 = 0;
  price: f64 = 0.0;
}

@json
class ComplexRequest {
  id: string = "";
  user: User = new User();
  items: Item[] = [];
  tags: string[] = [];
}

@json
class ComplexResponse {
  id: string = "";
  user_name: string = "";
  item_count: i32 = 0;
  total_quantity: i64 = 0;
  total_price: f64 = 0.0;
  tags: string[] = [];
  tag_count: i32 = 0;
}

/// {"id", "user": {"name", "email"}, "items": [{"name", "quantity", "price"}], "tags": [..]}
/// → {"id", "user_name", "item_count", "total_quantity", "total_price",
///    "tags": <upper-cased>, "tag_count"}.
export function process_complex(): i32 {
  const req = JSON.parse<ComplexRequest>(inputText());
  const out = new ComplexResponse();
  out.id = req.id;
  out.user_name = req.user.name;
  out.item_count = req.items.length;
  for (let i = 0; i < req.items.length; i++) {
    out.total_quantity += req.items[i].quantity;
    out.total_price += <f64>req.items[i].quantity * req.items[i].price;
  }
  for (let i = 0; i < req.tags.length; i++) out.tags.push(req.tags[i].toUpperCase());
  out.tag_count = req.tags.length;
  output(JSON.stringify(out));
  return 0;
}

// ------------------------------------------------------------ failures and limits

/// Always fails with a guest error message and a non-zero return.
export function fail(): i32 {
  setError("intentional failure from the guest");
  return 1;
}

let spins: u64 = 0;

/// Loops forever.
export function spin(): i32 {
  while (true) {
    spins++;
  }
  return 0;
}

const hoard = new Array<ArrayBuffer>();

/// Grows memory without bound (1 MiB at a time).
export function alloc_bomb(): i32 {
  while (true) {
    const chunk = new ArrayBuffer(1 << 20);
    store<u8>(changetype<usize>(chunk), 1);
    hoard.push(chunk);
  }
  return 0;
}

function descend(n: i64): i64 {
  if (n == -1) return 0; // never: keeps the recursion from being folded away
  return descend(n + 1) + 1;
}

/// Recurses without bound.
export function recurse(): i32 {
  output(descend(0).toString());
  return 0;
}

// ----------------------------------------------------------- instance state

let counter: i64 = 0;

/// Stores {"n": x} (or a bare integer) in a global; returns x.
export function set_state(): i32 {
  counter = intArgument();
  output(counter.toString());
  return 0;
}

/// Returns the global the last `set_state` stored (0 in a fresh instance).
export function get_state(): i32 {
  output(counter.toString());
  return 0;
}

/// Returns the counter, then increments it.
export function bump(): i32 {
  output(counter.toString());
  counter++;
  return 0;
}

let leaked: string = "";

/// The testkit's LeakGlobal: returns what a previous call left (null if
/// nothing), then stores the input's "n" (raw JSON) in a global.
export function leak_global(): i32 {
  output(leaked.length == 0 ? "null" : leaked);
  const n = rawField(inputText(), "n");
  leaked = n !== null ? n : "null";
  return 0;
}

/// The testkit's TopLevelDeclaration: {"n": x} → x + 1.
export function add_one(): i32 {
  output((intArgument() + 1).toString());
  return 0;
}

// --------------------------------------------------------------- data shapes

/// {"value": X} → X, byte for byte.
export function echo(): i32 {
  const v = rawField(inputText(), "value");
  if (v === null) {
    setError("echo: input has no \"value\"");
    return 1;
  }
  output(v);
  return 0;
}

/// `{"depth": N}` -> a list nested N levels deep around 0 (testkit
/// `DeepResult`).
export function deep(): i32 {
  const raw = rawField(inputText(), "depth");
  const n = raw === null ? 0 : I32.parseInt(raw);
  output("[".repeat(n) + "0" + "]".repeat(n));
  return 0;
}

@json
class Address {
  city: string = "";
}

@json
class NestedUser {
  name: string = "";
  tags: string[] = [];
  address: Address = new Address();
}

@json
class NestedRequest {
  user: NestedUser = new NestedUser();
}

@json
class NestedUserOut {
  name: string = "";
  city: string = "";
}

@json
class NestedResponse {
  user: NestedUserOut = new NestedUserOut();
  tag_count: i32 = 0;
}

/// The testkit's Nested: {"user": {"name", "tags", "address": {"city"}}}
/// → {"user": {"name", "city"}, "tag_count"}.
export function nested(): i32 {
  const req = JSON.parse<NestedRequest>(inputText());
  const out = new NestedResponse();
  out.user.name = req.user.name;
  out.user.city = req.user.address.city;
  out.tag_count = req.user.tags.length;
  output(JSON.stringify(out));
  return 0;
}

@json
class FeatureFlags {
  dark_mode: bool = false;
}

@json
class AppConfig {
  timeout: i64 = 0;
  max_retries: i64 = 0;
  feature_flags: FeatureFlags = new FeatureFlags();
}

@json
class UserData {
  id: i64 = 0;
}

@json
class RequestInfo {
  method: string = "";
  path: string = "";
}

@json
class PrepInput {
  name: string = "";
  app_version: string = "";
  environment: string = "";
  config: AppConfig = new AppConfig();
  user_data: UserData = new UserData();
  request: RequestInfo = new RequestInfo();
}

@json
class AppInfo {
  version: string = "";
  environment: string = "";
  timeout: i64 = 0;
  max_retries: i64 = 0;
  dark_mode: bool = false;
}

@json
class PrepOutput {
  greeting: string = "";
  message: string = "";
  user_id: i64 = 0;
  request_info: string = "";
  app_info: AppInfo = new AppInfo();
}

/// The data_prep example: static app config merged with per-request data.
export function data_prep(): i32 {
  const input = JSON.parse<PrepInput>(inputText());
  const out = new PrepOutput();
  out.greeting = "Hello, " + input.name + "!";
  out.message = "Processed by app version " + input.app_version + " in " + input.environment;
  out.user_id = input.user_data.id;
  out.request_info = input.request.method + " " + input.request.path;
  out.app_info.version = input.app_version;
  out.app_info.environment = input.environment;
  out.app_info.timeout = input.config.timeout;
  out.app_info.max_retries = input.config.max_retries;
  out.app_info.dark_mode = input.config.feature_flags.dark_mode;
  output(JSON.stringify(out));
  return 0;
}

// ----------------------------------------------------- sandbox probes
// An Extism plugin built without WASI has no file system or environment
// API at all; these probes try what it does have.

function httpRequest(url: string): i32 {
  const req = Memory.allocateString('{"url":' + JSON.stringify(url) + ',"method":"GET"}');
  const res = http_request(req.offset, 0);
  if (res == 0) {
    output("null");
    return 0;
  }
  const body = new Memory(res, length(res));
  output(JSON.stringify(body.toString()));
  return 0;
}

/// Tries to read /etc/hostname through the host's HTTP function (file URL).
export function read_file(): i32 {
  return httpRequest("file:///etc/hostname");
}

/// Tries to read PATH through the plugin config (the only key/value store a
/// plugin sees); null unless the host put it there.
export function read_env(): i32 {
  const v = Config.get("PATH");
  output(v !== null ? JSON.stringify(v) : "null");
  return 0;
}

/// Tries an HTTP GET to example.com.
export function http_get(): i32 {
  return httpRequest("http://example.com/");
}

// ------------------------------------------------------ for the instance tests

@json
class Allocated {
  allocated_mib: i32 = 0;
}

const kept = new Array<ArrayBuffer>();

/// {"mib": n}: allocates and touches n MiB (kept by the instance), returns
/// {"allocated_mib": n}.
export function allocate(): i32 {
  const n = <i32>intField("mib");
  for (let i = 0; i < n; i++) {
    const chunk = new ArrayBuffer(1 << 20);
    store<u8>(changetype<usize>(chunk), 1);
    kept.push(chunk);
  }
  const out = new Allocated();
  out.allocated_mib = n;
  output(JSON.stringify(out));
  return 0;
}

/// {"name": s} → like greet; {"spin": true, ...} → loops forever first.
export function slow_greet(): i32 {
  const spin = rawField(inputText(), "spin");
  if (spin !== null && spin == "true") {
    while (true) {
      spins++;
    }
  }
  return greet();
}

function intField(key: string): i64 {
  const raw = rawField(inputText(), key);
  if (raw === null || raw.length == 0) return 0;
  return I64.parseInt(raw);
}

@json
class VowelBatch {
  items: string[] = [];
}

@json
class BatchCount {
  count: i64 = 0;
}

// {"items": ["...", ...]} → {"count": <vowels in all items>}: one map-reduce
// chunk (the `coordinate` example counts vowels in 10 000 strings this way).
export function count_vowels_batch(): i32 {
  const batch = JSON.parse<VowelBatch>(inputText());
  const out = new BatchCount();
  const vowels = "aeiouAEIOU";
  for (let i = 0; i < batch.items.length; i++) {
    const s = batch.items[i];
    for (let j = 0; j < s.length; j++) {
      if (vowels.indexOf(s.charAt(j)) >= 0) out.count++;
    }
  }
  output(JSON.stringify(out));
  return 0;
}
