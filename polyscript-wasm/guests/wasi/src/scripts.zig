//! polyscript WASI test guest: a plain WASI (preview1) command module.
//!
//! Contract (the polyscript WASI engine's): the input JSON object arrives on
//! stdin, the result JSON goes to stdout, a non-zero exit code is a failure
//! whose message is on stderr. The behaviour is selected by the input's "op"
//! field (the greeting when absent), so one module serves every test scenario.
//!
//! It talks to WASI through its own `extern` declarations (no libc, no std I/O)
//! and reads JSON with a tiny scanner that returns raw slices of the input, so
//! values are echoed byte for byte (integers stay integers, floats stay floats).

const std = @import("std");
const c = @import("common.zig");
const out = c.out;
const outInt = c.outInt;
const outJsonString = c.outJsonString;
const fail = c.fail;
const member = c.member;
const isString = c.isString;
const inner = c.inner;
const parseInt = c.parseInt;
const decodeAlloc = c.decodeAlloc;
const alloc = c.alloc;
const Iovec = c.Iovec;
const arrayLen = c.arrayLen;

// WASI imports only the probes below use.
extern "wasi_snapshot_preview1" fn environ_sizes_get(count: *usize, size: *usize) u16;
extern "wasi_snapshot_preview1" fn environ_get(environ: [*][*:0]u8, buf: [*]u8) u16;
extern "wasi_snapshot_preview1" fn args_sizes_get(count: *usize, size: *usize) u16;
extern "wasi_snapshot_preview1" fn args_get(argv: [*][*:0]u8, buf: [*]u8) u16;
extern "wasi_snapshot_preview1" fn path_open(dirfd: u32, dirflags: u32, path: [*]const u8, path_len: usize, oflags: u16, rights_base: u64, rights_inheriting: u64, fdflags: u16, fd: *u32) u16;
extern "wasi_snapshot_preview1" fn sock_accept(fd: u32, flags: u16, new_fd: *u32) u16;

// ------------------------------------------------------------------ the ops

/// {"name": N} -> {"greeting": "Hello, N!", "length": <UTF-8 byte length>}
fn greet(root: []const u8) void {
    const name = member(root, "name") orelse fail("greet: input has no \"name\"");
    if (!isString(name)) fail("greet: \"name\" must be a string");
    out("{\"greeting\":\"Hello, ");
    out(inner(name));
    // Decoded in place (the input is not read again): no second copy of a
    // large name.
    const decoded_len = c.decode(name, @constCast(name)).len;
    out("!\",\"length\":");
    outInt(@intCast(decoded_len + 8));
    out("}");
}

/// {"user": {"name", "tags", "address": {"city"}}} -> {"user": {"name", "city"}, "tag_count"}
fn nested(root: []const u8) void {
    const user = member(root, "user") orelse fail("nested: no \"user\"");
    const name = member(user, "name") orelse "null";
    const tags = member(user, "tags") orelse "[]";
    const address = member(user, "address") orelse "{}";
    const city = member(address, "city") orelse "null";
    out("{\"user\":{\"name\":");
    out(name);
    out(",\"city\":");
    out(city);
    out("},\"tag_count\":");
    outInt(@intCast(arrayLen(tags)));
    out("}");
}

/// A global that survives only as long as the instance does.
var counter: i64 = 0;

/// Returns the previous eval's `n` (null if none) and stores this one.
fn leakGlobal(root: []const u8) void {
    if (counter == 0) out("null") else outInt(counter);
    counter = if (member(root, "n")) |n| parseInt(n) else 1;
}

/// A top-level declaration, then `n + 1`.
const declared_offset: i64 = 1;
fn topLevel(root: []const u8) void {
    const n = member(root, "n") orelse fail("inc: no \"n\"");
    outInt(parseInt(n) + declared_offset);
}

fn spin() noreturn {
    var i: u64 = 0;
    while (true) {
        std.mem.doNotOptimizeAway(&i);
        i +%= 1;
    }
}

/// Grows linear memory 1 MiB at a time, forever.
fn bomb() noreturn {
    while (true) {
        if (@wasmMemoryGrow(0, 16) < 0) fail("memory.grow failed");
    }
}

/// Grows linear memory by `mb` MiB, touches every page, reports it.
fn allocMb(root: []const u8) void {
    const mb = if (member(root, "mb")) |raw| parseInt(raw) else 1;
    const pages: u32 = @intCast(mb * 16);
    const before = @wasmMemoryGrow(0, pages);
    if (before < 0) fail("memory.grow failed");
    var p: u32 = 0;
    while (p < pages) : (p += 1) {
        const addr: usize = (@as(usize, @intCast(before)) + p) * 65536;
        const ptr: *volatile u8 = @ptrFromInt(addr);
        ptr.* = 1;
    }
    out("{\"allocated_mb\":");
    outInt(mb);
    out("}");
}

var depth_limit: u64 = std.math.maxInt(u64);
fn recurse(n: u64) u64 {
    var frame: [32]u64 = undefined;
    frame[@intCast(n % 32)] = n;
    std.mem.doNotOptimizeAway(&frame);
    if (n >= depth_limit) return n;
    return recurse(n + 1) +% frame[@intCast((n *% 7) % 32)];
}

/// Tries to open a file relative to the first preopened directory (fd 3);
/// the content as a string, or null when WASI says no.
fn readFile(root: []const u8) void {
    const path = if (member(root, "path")) |raw| decodeAlloc(raw) else @constCast("etc/hostname");
    var fd: u32 = 0;
    const rights_read: u64 = 2; // fd_read
    if (path_open(3, 0, path.ptr, path.len, 0, rights_read, 0, 0, &fd) != 0) {
        out("null");
        return;
    }
    var buf: [4096]u8 = undefined;
    const iov = [_]Iovec{.{ .base = &buf, .len = buf.len }};
    var n: usize = 0;
    if (c.fd_read(fd, &iov, 1, &n) != 0) {
        out("null");
        return;
    }
    outJsonString(buf[0..n]);
}

/// WASI preview1 cannot open sockets; accepting on fd 3 is the closest try.
fn socket() void {
    var fd: u32 = 0;
    if (sock_accept(3, 0, &fd) != 0) out("null") else out("true");
}

/// The environment variable named by "key" (default PATH), or null.
fn env(root: []const u8) void {
    const key = if (member(root, "key")) |raw| decodeAlloc(raw) else @constCast("PATH");
    var count: usize = 0;
    var size: usize = 0;
    if (environ_sizes_get(&count, &size) != 0 or count == 0) {
        out("null");
        return;
    }
    const ptrs = alloc.alloc([*:0]u8, count) catch fail("out of memory");
    const buf = alloc.alloc(u8, size) catch fail("out of memory");
    if (environ_get(ptrs.ptr, buf.ptr) != 0) {
        out("null");
        return;
    }
    for (ptrs) |p| {
        const entry = std.mem.span(p);
        if (entry.len > key.len and std.mem.startsWith(u8, entry, key) and entry[key.len] == '=') {
            outJsonString(entry[key.len + 1 ..]);
            return;
        }
    }
    out("null");
}

/// {"depth": N} -> a list nested N levels deep around 0 (`[[[0]]]` for 3).
fn deep(root: []const u8) void {
    const n = if (member(root, "depth")) |raw| parseInt(raw) else 0;
    var i: i64 = 0;
    while (i < n) : (i += 1) out("[");
    out("0");
    i = 0;
    while (i < n) : (i += 1) out("]");
}

/// The command line as a JSON array of strings.
fn args() void {
    var count: usize = 0;
    var size: usize = 0;
    if (args_sizes_get(&count, &size) != 0) fail("args_sizes_get failed");
    const ptrs = alloc.alloc([*:0]u8, count) catch fail("out of memory");
    const buf = alloc.alloc(u8, size) catch fail("out of memory");
    if (args_get(ptrs.ptr, buf.ptr) != 0) fail("args_get failed");
    out("[");
    for (ptrs, 0..) |p, i| {
        if (i > 0) out(",");
        outJsonString(std.mem.span(p));
    }
    out("]");
}

pub fn main() void {
    const input = c.readStdin();
    const op: []const u8 = if (member(input, "op")) |raw| (if (isString(raw)) inner(raw) else "") else "greet";
    const eql = std.mem.eql;
    if (eql(u8, op, "greet")) {
        greet(input);
    } else if (eql(u8, op, "nested")) {
        nested(input);
    } else if (eql(u8, op, "echo")) {
        out(member(input, "value") orelse "null");
    } else if (eql(u8, op, "fail")) {
        fail("boom: this script always fails");
    } else if (eql(u8, op, "counter")) {
        leakGlobal(input);
    } else if (eql(u8, op, "inc")) {
        topLevel(input);
    } else if (eql(u8, op, "spin")) {
        spin();
    } else if (eql(u8, op, "bomb")) {
        bomb();
    } else if (eql(u8, op, "alloc")) {
        allocMb(input);
    } else if (eql(u8, op, "recurse")) {
        outInt(@intCast(recurse(0) & 0xffff));
    } else if (eql(u8, op, "read_file")) {
        readFile(input);
    } else if (eql(u8, op, "socket")) {
        socket();
    } else if (eql(u8, op, "env")) {
        env(input);
    } else if (eql(u8, op, "args")) {
        args();
    } else if (eql(u8, op, "deep")) {
        deep(input);
    } else if (eql(u8, op, "text")) {
        out("plain text, not JSON\n");
    } else {
        c.write(2, "unknown op: ");
        fail(op);
    }
    c.flush();
}

// ------------------------------------------------- exports besides `_start`
// Entry points the engine can call instead of `_start` (WASI engine's
// `entry_point`, or a context's `with_entry_point`).

/// Writes a fixed text: shows an export called without `_start`.
export fn hello() void {
    out("hello from an export");
    c.flush();
}

/// Copies stdin to stdout unchanged (raw bytes in, raw bytes out).
export fn echo_stdin() void {
    out(c.readStdin());
    c.flush();
}
