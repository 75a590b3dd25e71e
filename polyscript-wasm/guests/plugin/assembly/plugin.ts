// The Extism plugin used by polyscript-wasm's tests and examples.
//
// Every export reads the host's input (the merged data as JSON bytes) and
// writes its result as UTF-8 JSON. See ../README.md for each export's
// input and output shapes.
import { Host, Config, Memory } from "@extism/as-pdk";
import { http_request, length } from "@extism/as-pdk/lib/env";
import { JSON } from "json-as";
import {
  inputText,
  intArgument,
  intField,
  isObjectText,
  output,
  outputBytes,
  rawField,
  rawFieldBytes,
  setError,
  stringField,
  textArgument,
} from "./lib";

@external("extism:host/env", "http_status_code")
declare function http_status_code(): i32;

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

/// {"value": X} → X, byte for byte (scanned as UTF-8 bytes: a 10 MB value
/// needs about its own size of guest memory, not the 4× of a UTF-16 copy
/// and a parse).
export function echo(): i32 {
  const v = rawFieldBytes(Host.input(), "value");
  if (v === null) {
    setError("echo: input has no \"value\"");
    return 1;
  }
  outputBytes(v);
  return 0;
}

/// The input bytes, unchanged (for the raw bytes input and output modes).
export function bytes_echo(): i32 {
  Host.output(Host.input());
  return 0;
}

/// The input's length in bytes (for the text input mode).
export function byte_length(): i32 {
  output(Host.input().length.toString());
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

/// {"url": u} → {"status": <HTTP status>, "body": <the body as a string>}
/// through the host's `http_request` (which refuses hosts not allowed).
export function http_fetch(): i32 {
  const text = inputText();
  const obj = JSON.parse<JSON.Obj>(text);
  const url = stringField(obj, "url");
  if (url === null) {
    setError("http_fetch: input has no \"url\"");
    return 1;
  }
  const req = Memory.allocateString('{"url":' + JSON.stringify(url) + ',"method":"GET"}');
  const res = http_request(req.offset, 0);
  const body = res == 0 ? "" : new Memory(res, length(res)).toString();
  output('{"status":' + http_status_code().toString() + ',"body":' + JSON.stringify(body) + "}");
  return 0;
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
