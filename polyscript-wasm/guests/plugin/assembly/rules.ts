// A business rule as an Extism plugin calling two host functions of the
// embedding program: `customer(id)` (a lookup) and `audit(line)` (a side
// effect), imported from the `polyscript` namespace like host.ts's. Used by
// the workspace's `host_functions` example, where the same rule is also
// written in Rhai, Lua and JavaScript. Built into build/rules.wasm (build.sh);
// a module of its own because its imports are not the conformance kit's.
import { JSON } from "json-as";
import { inputText, output, rawField, setError } from "./lib";
import { Memory } from "@extism/as-pdk";
import { length } from "@extism/as-pdk/lib/env";

@external("polyscript", "customer")
declare function host_customer(args: u64): u64;
@external("polyscript", "audit")
declare function host_audit(args: u64): u64;

const OK = '{"ok":';
const ERROR = '{"error":';

/// Calls a host import with the JSON array `args`: the raw JSON result, or
/// null after setting the host's error as the plugin's error.
function call(f: (args: u64) => u64, args: string): string | null {
  const mem = Memory.allocateString(args);
  const ret = f(mem.offset);
  const text = new Memory(ret, length(ret)).toString();
  if (text.startsWith(OK)) return text.substring(OK.length, text.length - 1);
  if (text.startsWith(ERROR)) {
    setError(JSON.parse<string>(text.substring(ERROR.length, text.length - 1)));
  } else {
    setError("unexpected host reply: " + text);
  }
  return null;
}

/// {"customer": id, "total": n} → {"customer": id, "discount": n * rate}:
/// gold customers get 20% off, everyone else 5%; each decision is audited.
export function discount(): i32 {
  const input = inputText();
  const id = rawField(input, "customer");
  const total = rawField(input, "total");
  if (id === null || total === null) {
    setError("discount: ctx.customer and ctx.total are required");
    return 1;
  }
  const found = call(host_customer, "[" + id + "]");
  if (found === null) return 1;
  const customer = JSON.parse<JSON.Obj>(found);
  const cid = customer.get("id")!.get<string>();
  const tier = customer.get("tier")!.get<string>();
  const rate = tier == "gold" ? 0.2 : 0.05;
  if (call(host_audit, "[" + JSON.stringify("wasm: " + cid + " " + tier) + "]") === null) return 1;
  const amount = parseFloat(total) * rate;
  output('{"customer":' + JSON.stringify(cid) + ',"discount":' + amount.toString() + "}");
  return 0;
}
