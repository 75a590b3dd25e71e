// The Extism plugin that calls host functions: polyscript's registry, bound
// as imports from the `polyscript` namespace (see polyscript-wasm's crate
// docs). Each import takes the Extism memory offset of a JSON array (the
// arguments) and returns the offset of `{"ok":RESULT}` or
// `{"error":"NAME: MESSAGE"}`; a host error is the guest's to handle.
//
// One export per conformance-kit host scenario, against the kit's registry
// (add, user, fail, slow, tenant). Built into build/host.wasm (build.sh).
import { Host, Memory } from "@extism/as-pdk";
import { length } from "@extism/as-pdk/lib/env";
import { JSON } from "json-as";
import { inputText, output, rawField, setError } from "./lib";

@external("polyscript", "add")
declare function host_add(args: u64): u64;
@external("polyscript", "user")
declare function host_user(args: u64): u64;
@external("polyscript", "fail")
declare function host_fail(args: u64): u64;
@external("polyscript", "slow")
declare function host_slow(args: u64): u64;
@external("polyscript", "tenant")
declare function host_tenant(args: u64): u64;

/// What a host call gave back.
class Reply {
  constructor(public ok: bool, public text: string) {}
}

const OK = '{"ok":';
const ERROR = '{"error":';

/// Calls a host import with the JSON array `args` and unwraps the envelope:
/// the raw JSON result, or the error message.
function call(f: (args: u64) => u64, args: string): Reply {
  const mem = Memory.allocateString(args);
  const ret = f(mem.offset);
  const text = new Memory(ret, length(ret)).toString();
  if (text.startsWith(OK)) return new Reply(true, text.substring(OK.length, text.length - 1));
  if (text.startsWith(ERROR)) {
    return new Reply(false, JSON.parse<string>(text.substring(ERROR.length, text.length - 1)));
  }
  return new Reply(false, "unexpected host reply: " + text);
}

function field(key: string): string {
  const raw = rawField(inputText(), key);
  return raw !== null ? raw : "null";
}

/// An error the guest does not handle: the eval ends with its message.
function uncaught(reply: Reply): i32 {
  setError(reply.text);
  return 1;
}

/// {"a", "b", "id"} → {"sum": add(a, b), "user": user(id)}.
export function host_call(): i32 {
  const sum = call(host_add, "[" + field("a") + "," + field("b") + "]");
  if (!sum.ok) return uncaught(sum);
  const who = call(host_user, "[" + field("id") + "]");
  if (!who.ok) return uncaught(who);
  output('{"sum":' + sum.text + ',"user":' + who.text + "}");
  return 0;
}

/// Calls fail(ctx.message) and handles the error: its message is the result.
export function host_error_caught(): i32 {
  const reply = call(host_fail, "[" + field("message") + "]");
  output(reply.ok ? "null" : JSON.stringify(reply.text));
  return 0;
}

/// Calls fail(ctx.message) without handling it.
export function host_error_uncaught(): i32 {
  const reply = call(host_fail, "[" + field("message") + "]");
  return reply.ok ? 0 : uncaught(reply);
}

/// Calls add(ctx.a): one argument where two are expected.
export function host_wrong_arguments(): i32 {
  const reply = call(host_add, "[" + field("a") + "]");
  if (!reply.ok) return uncaught(reply);
  output(reply.text);
  return 0;
}

/// Calls slow(ctx.ms), then returns "done".
export function host_slow_call(): i32 {
  const reply = call(host_slow, "[" + field("ms") + "]");
  if (!reply.ok) return uncaught(reply);
  output('"done"');
  return 0;
}

/// Returns tenant().
export function host_data(): i32 {
  const reply = call(host_tenant, "[]");
  if (!reply.ok) return uncaught(reply);
  output(reply.text);
  return 0;
}

/// Calls add(1, 1) forever.
export function host_loop(): i32 {
  while (true) {
    call(host_add, "[1,1]");
  }
  return 0;
}

/// The input unchanged (keeps `Host` used when the above are tree-shaken).
export function host_echo(): i32 {
  Host.output(Host.input());
  return 0;
}
