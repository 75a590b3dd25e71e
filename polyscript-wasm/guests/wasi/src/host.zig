//! polyscript WASI test guest calling host functions through polyscript's
//! WASI host ABI (see polyscript-wasm's crate docs):
//!
//!   polyscript_host::NAME(args_ptr, args_len) -> status  (0 ok, 1 failed)
//!   polyscript_host_result::len() -> bytes of the pending result
//!   polyscript_host_result::read(dst)  copies it out
//!
//! Arguments go as a JSON array; the result comes back as JSON (status 0) or
//! as the failure's message (status 1). The input's "op" field picks what to
//! do; each op is one of the conformance kit's host scenarios, against its
//! registry (add, user, fail, slow, tenant).

const c = @import("common.zig");

extern "polyscript_host" fn add(args: [*]const u8, len: usize) u32;
extern "polyscript_host" fn user(args: [*]const u8, len: usize) u32;
extern "polyscript_host" fn fail(args: [*]const u8, len: usize) u32;
extern "polyscript_host" fn slow(args: [*]const u8, len: usize) u32;
extern "polyscript_host" fn tenant(args: [*]const u8, len: usize) u32;

const result = struct {
    extern "polyscript_host_result" fn len() u32;
    extern "polyscript_host_result" fn read(dst: [*]u8) void;
};

/// What a host call gave back: its JSON result, or its error message.
const Reply = struct { ok: bool, text: []u8 };

fn call(comptime function: anytype, args: []const u8) Reply {
    const status = function(args.ptr, args.len);
    const n = result.len();
    const buf = c.alloc.alloc(u8, n) catch c.fail("out of memory");
    result.read(buf.ptr);
    return .{ .ok = status == 0, .text = buf };
}

/// `[` + the parts joined by commas + `]`.
fn array(parts: []const []const u8) []u8 {
    var n: usize = 2;
    for (parts) |p| n += p.len + 1;
    const buf = c.alloc.alloc(u8, n) catch c.fail("out of memory");
    var i: usize = 0;
    buf[i] = '[';
    i += 1;
    for (parts, 0..) |p, k| {
        if (k > 0) {
            buf[i] = ',';
            i += 1;
        }
        @memcpy(buf[i .. i + p.len], p);
        i += p.len;
    }
    buf[i] = ']';
    i += 1;
    return buf[0..i];
}

fn field(input: []const u8, key: []const u8) []const u8 {
    return c.member(input, key) orelse "null";
}

/// Ends the eval with the host's error message, as an uncaught error would.
fn uncaught(reply: Reply) []u8 {
    if (!reply.ok) c.fail(reply.text);
    return reply.text;
}

pub fn main() void {
    const input = c.readStdin();
    const op_raw = c.member(input, "op") orelse "\"call\"";
    const op = if (c.isString(op_raw)) c.inner(op_raw) else "";
    const eql = @import("std").mem.eql;
    if (eql(u8, op, "call")) {
        // {"a", "b", "id"} -> {"sum": add(a, b), "user": user(id)}
        const sum = uncaught(call(add, array(&.{ field(input, "a"), field(input, "b") })));
        const who = uncaught(call(user, array(&.{field(input, "id")})));
        c.out("{\"sum\":");
        c.out(sum);
        c.out(",\"user\":");
        c.out(who);
        c.out("}");
    } else if (eql(u8, op, "caught")) {
        // The error handled: its message is the result.
        const reply = call(fail, array(&.{field(input, "message")}));
        if (reply.ok) c.out("null") else c.outJsonString(reply.text);
    } else if (eql(u8, op, "uncaught")) {
        _ = uncaught(call(fail, array(&.{field(input, "message")})));
    } else if (eql(u8, op, "wrong_args")) {
        _ = uncaught(call(add, array(&.{field(input, "a")})));
    } else if (eql(u8, op, "slow")) {
        _ = uncaught(call(slow, array(&.{field(input, "ms")})));
        c.out("\"done\"");
    } else if (eql(u8, op, "tenant")) {
        c.out(uncaught(call(tenant, "[]")));
    } else if (eql(u8, op, "loop")) {
        while (true) {
            _ = call(add, "[1,1]");
        }
    } else {
        c.write(2, "unknown op: ");
        c.fail(op);
    }
    c.flush();
}
