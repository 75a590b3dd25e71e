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

// ---------------------------------------------------------------- WASI imports
const Iovec = extern struct { base: [*]u8, len: usize };
const Ciovec = extern struct { base: [*]const u8, len: usize };
extern "wasi_snapshot_preview1" fn fd_read(fd: u32, iovs: [*]const Iovec, n: usize, nread: *usize) u16;
extern "wasi_snapshot_preview1" fn fd_write(fd: u32, iovs: [*]const Ciovec, n: usize, written: *usize) u16;
extern "wasi_snapshot_preview1" fn proc_exit(code: u32) noreturn;
extern "wasi_snapshot_preview1" fn environ_sizes_get(count: *usize, size: *usize) u16;
extern "wasi_snapshot_preview1" fn environ_get(environ: [*][*:0]u8, buf: [*]u8) u16;
extern "wasi_snapshot_preview1" fn args_sizes_get(count: *usize, size: *usize) u16;
extern "wasi_snapshot_preview1" fn args_get(argv: [*][*:0]u8, buf: [*]u8) u16;
extern "wasi_snapshot_preview1" fn path_open(dirfd: u32, dirflags: u32, path: [*]const u8, path_len: usize, oflags: u16, rights_base: u64, rights_inheriting: u64, fdflags: u16, fd: *u32) u16;
extern "wasi_snapshot_preview1" fn sock_accept(fd: u32, flags: u16, new_fd: *u32) u16;

const alloc = std.heap.wasm_allocator;

// ---------------------------------------------------------------------- output
fn write(fd: u32, bytes: []const u8) void {
    var rest = bytes;
    while (rest.len > 0) {
        const iov = [_]Ciovec{.{ .base = rest.ptr, .len = rest.len }};
        var n: usize = 0;
        if (fd_write(fd, &iov, 1, &n) != 0 or n == 0) proc_exit(70);
        rest = rest[n..];
    }
}

/// stdout is buffered and written once at the end (each WASI call costs the
/// host a few microseconds).
var out_buf: []u8 = &[_]u8{};
var out_len: usize = 0;

fn out(bytes: []const u8) void {
    if (out_len + bytes.len > out_buf.len) {
        var cap = if (out_buf.len == 0) 4096 else out_buf.len * 2;
        while (cap < out_len + bytes.len) cap *= 2;
        const grown = alloc.alloc(u8, cap) catch {
            flush();
            write(1, bytes);
            return;
        };
        @memcpy(grown[0..out_len], out_buf[0..out_len]);
        if (out_buf.len > 0) alloc.free(out_buf);
        out_buf = grown;
    }
    @memcpy(out_buf[out_len .. out_len + bytes.len], bytes);
    out_len += bytes.len;
}

fn flush() void {
    write(1, out_buf[0..out_len]);
    out_len = 0;
}

fn outInt(value: i64) void {
    var buf: [24]u8 = undefined;
    var i: usize = buf.len;
    var v: u64 = if (value < 0) @intCast(-(value + 1)) else @intCast(value);
    if (value < 0) v += 1;
    while (true) {
        i -= 1;
        buf[i] = '0' + @as(u8, @intCast(v % 10));
        v /= 10;
        if (v == 0) break;
    }
    if (value < 0) {
        i -= 1;
        buf[i] = '-';
    }
    out(buf[i..]);
}

/// Writes `bytes` as a JSON string literal.
fn outJsonString(bytes: []const u8) void {
    const hex = "0123456789abcdef";
    out("\"");
    for (bytes) |c| {
        switch (c) {
            '"' => out("\\\""),
            '\\' => out("\\\\"),
            '\n' => out("\\n"),
            '\r' => out("\\r"),
            '\t' => out("\\t"),
            0...8, 11, 12, 14...0x1f => out(&[_]u8{ '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] }),
            else => out(&[_]u8{c}),
        }
    }
    out("\"");
}

/// Fails the way the contract says: message on stderr, exit code 1.
fn fail(message: []const u8) noreturn {
    flush();
    write(2, message);
    write(2, "\n");
    proc_exit(1);
}

// ---------------------------------------------------------------------- input
fn readStdin() []u8 {
    var buf = alloc.alloc(u8, 4096) catch fail("out of memory reading stdin");
    var len: usize = 0;
    while (true) {
        if (len == buf.len) {
            buf = alloc.realloc(buf, buf.len * 2) catch fail("out of memory reading stdin");
        }
        const iov = [_]Iovec{.{ .base = buf.ptr + len, .len = buf.len - len }};
        var n: usize = 0;
        if (fd_read(0, &iov, 1, &n) != 0) fail("cannot read stdin");
        if (n == 0) break;
        len += n;
    }
    return buf[0..len];
}

// ------------------------------------------------------------- JSON scanning
// Every function takes the whole text `s` and an index, and returns an index.

fn skipWs(s: []const u8, start: usize) usize {
    var i = start;
    while (i < s.len and (s[i] == ' ' or s[i] == '\n' or s[i] == '\r' or s[i] == '\t')) i += 1;
    return i;
}

fn skipString(s: []const u8, start: usize) usize {
    var i = start + 1; // past the opening quote
    while (i < s.len) : (i += 1) {
        if (s[i] == '\\') {
            i += 1;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    fail("unterminated string in input");
}

fn skipValue(s: []const u8, start: usize) usize {
    var i = skipWs(s, start);
    if (i >= s.len) fail("unexpected end of input");
    switch (s[i]) {
        '"' => return skipString(s, i),
        '{', '[' => {
            var depth: usize = 0;
            while (i < s.len) {
                switch (s[i]) {
                    '"' => {
                        i = skipString(s, i);
                        continue;
                    },
                    '{', '[' => depth += 1,
                    '}', ']' => {
                        depth -= 1;
                        if (depth == 0) return i + 1;
                    },
                    else => {},
                }
                i += 1;
            }
            fail("unterminated object or array in input");
        },
        else => {
            while (i < s.len and s[i] != ',' and s[i] != '}' and s[i] != ']' and s[i] != ' ' and s[i] != '\n') i += 1;
            return i;
        },
    }
}

/// The raw text of member `key` of the object `obj` (raw text), or null.
fn member(obj: []const u8, key: []const u8) ?[]const u8 {
    var i = skipWs(obj, 0);
    if (i >= obj.len or obj[i] != '{') return null;
    i += 1;
    while (true) {
        i = skipWs(obj, i);
        if (i >= obj.len or obj[i] == '}') return null;
        if (obj[i] == ',') {
            i += 1;
            continue;
        }
        const key_end = skipString(obj, i);
        const name = obj[i + 1 .. key_end - 1];
        i = skipWs(obj, key_end);
        if (i >= obj.len or obj[i] != ':') fail("malformed object in input");
        const value_start = skipWs(obj, i + 1);
        const value_end = skipValue(obj, value_start);
        if (std.mem.eql(u8, name, key)) return obj[value_start..value_end];
        i = value_end;
    }
}

/// The number of elements of the array `arr` (raw text).
fn arrayLen(arr: []const u8) usize {
    var i = skipWs(arr, 0);
    if (i >= arr.len or arr[i] != '[') fail("expected an array");
    i = skipWs(arr, i + 1);
    if (i < arr.len and arr[i] == ']') return 0;
    var count: usize = 0;
    while (i < arr.len) {
        i = skipWs(arr, skipValue(arr, i));
        count += 1;
        if (i >= arr.len or arr[i] == ']') break;
        i += 1; // the comma
    }
    return count;
}

fn isString(raw: []const u8) bool {
    return raw.len >= 2 and raw[0] == '"';
}

/// Inner raw text of a string literal (escapes kept, valid inside a literal).
fn inner(raw: []const u8) []const u8 {
    return raw[1 .. raw.len - 1];
}

fn hexVal(c: u8) u32 {
    return switch (c) {
        '0'...'9' => c - '0',
        'a'...'f' => c - 'a' + 10,
        'A'...'F' => c - 'A' + 10,
        else => fail("bad \\u escape in input"),
    };
}

/// Decodes a string literal's escapes into `dest` (which must be at least as
/// long as the literal) and returns the UTF-8 bytes.
fn decode(raw: []const u8, dest: []u8) []u8 {
    const s = inner(raw);
    var i: usize = 0;
    var n: usize = 0;
    while (i < s.len) {
        if (s[i] != '\\') {
            dest[n] = s[i];
            n += 1;
            i += 1;
            continue;
        }
        const e = s[i + 1];
        i += 2;
        const simple: ?u8 = switch (e) {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => 8,
            'f' => 12,
            'u' => null,
            else => e,
        };
        if (simple) |c| {
            dest[n] = c;
            n += 1;
            continue;
        }
        var cp: u32 = (hexVal(s[i]) << 12) | (hexVal(s[i + 1]) << 8) | (hexVal(s[i + 2]) << 4) | hexVal(s[i + 3]);
        i += 4;
        if (cp >= 0xD800 and cp < 0xDC00 and i + 6 <= s.len and s[i] == '\\' and s[i + 1] == 'u') {
            const lo = (hexVal(s[i + 2]) << 12) | (hexVal(s[i + 3]) << 8) | (hexVal(s[i + 4]) << 4) | hexVal(s[i + 5]);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        if (cp < 0x80) {
            dest[n] = @intCast(cp);
            n += 1;
        } else if (cp < 0x800) {
            dest[n] = @intCast(0xC0 | (cp >> 6));
            dest[n + 1] = @intCast(0x80 | (cp & 0x3F));
            n += 2;
        } else if (cp < 0x10000) {
            dest[n] = @intCast(0xE0 | (cp >> 12));
            dest[n + 1] = @intCast(0x80 | ((cp >> 6) & 0x3F));
            dest[n + 2] = @intCast(0x80 | (cp & 0x3F));
            n += 3;
        } else {
            dest[n] = @intCast(0xF0 | (cp >> 18));
            dest[n + 1] = @intCast(0x80 | ((cp >> 12) & 0x3F));
            dest[n + 2] = @intCast(0x80 | ((cp >> 6) & 0x3F));
            dest[n + 3] = @intCast(0x80 | (cp & 0x3F));
            n += 4;
        }
    }
    return dest[0..n];
}

fn decodeAlloc(raw: []const u8) []u8 {
    const dest = alloc.alloc(u8, raw.len) catch fail("out of memory");
    return decode(raw, dest);
}

fn parseInt(raw: []const u8) i64 {
    return std.fmt.parseInt(i64, raw, 10) catch fail("expected an integer");
}

fn requireString(root: []const u8, key: []const u8) []const u8 {
    const raw = member(root, key) orelse fail("missing string field");
    if (!isString(raw)) fail("field must be a string");
    return raw;
}

// ------------------------------------------------------------------ the ops

/// {"name": N} -> {"greeting": "Hello, N!", "length": <UTF-8 byte length>}
fn greet(root: []const u8) void {
    const name = member(root, "name") orelse fail("greet: input has no \"name\"");
    if (!isString(name)) fail("greet: \"name\" must be a string");
    const decoded_len = decodeAlloc(name).len;
    out("{\"greeting\":\"Hello, ");
    out(inner(name));
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
    if (fd_read(fd, &iov, 1, &n) != 0) {
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
    const input = readStdin();
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
        write(2, "unknown op: ");
        fail(op);
    }
    flush();
}
