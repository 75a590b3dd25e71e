//! What the polyscript WASI test guests share: WASI I/O through their own
//! `extern` declarations (no libc, no std I/O), the input read into memory
//! sized to it, buffered output, and a tiny JSON scanner that returns raw
//! slices of the input (so values are echoed byte for byte).

const std = @import("std");

// ---------------------------------------------------------------- WASI imports
pub const Iovec = extern struct { base: [*]u8, len: usize };
pub const Ciovec = extern struct { base: [*]const u8, len: usize };
pub extern "wasi_snapshot_preview1" fn fd_read(fd: u32, iovs: [*]const Iovec, n: usize, nread: *usize) u16;
pub extern "wasi_snapshot_preview1" fn fd_write(fd: u32, iovs: [*]const Ciovec, n: usize, written: *usize) u16;
pub extern "wasi_snapshot_preview1" fn proc_exit(code: u32) noreturn;

pub const alloc = std.heap.wasm_allocator;

// ---------------------------------------------------------------------- output
pub fn write(fd: u32, bytes: []const u8) void {
    var rest = bytes;
    while (rest.len > 0) {
        const iov = [_]Ciovec{.{ .base = rest.ptr, .len = rest.len }};
        var n: usize = 0;
        if (fd_write(fd, &iov, 1, &n) != 0 or n == 0) proc_exit(70);
        rest = rest[n..];
    }
}

/// stdout is buffered (each WASI call costs the host a few microseconds);
/// large pieces bypass the buffer, so output never needs a second copy of
/// itself in memory.
var out_buf: [16 * 1024]u8 = undefined;
var out_len: usize = 0;

pub fn out(bytes: []const u8) void {
    if (out_len + bytes.len > out_buf.len) {
        flush();
        if (bytes.len > out_buf.len) {
            write(1, bytes);
            return;
        }
    }
    @memcpy(out_buf[out_len .. out_len + bytes.len], bytes);
    out_len += bytes.len;
}

pub fn flush() void {
    write(1, out_buf[0..out_len]);
    out_len = 0;
}

pub fn outInt(value: i64) void {
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
pub fn outJsonString(bytes: []const u8) void {
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
pub fn fail(message: []const u8) noreturn {
    flush();
    write(2, message);
    write(2, "\n");
    proc_exit(1);
}

// ---------------------------------------------------------------------- input
/// Pages (1 MiB) memory grows by while stdin is read.
const read_chunk_pages = 16;

/// Reads all of stdin into pages grown at the end of linear memory: the
/// buffer is as large as the input (rounded up to 1 MiB) and is never
/// copied (a doubling buffer needed up to three times the input). Nothing
/// else grows memory while it reads, so the pages are contiguous.
pub fn readStdin() []u8 {
    const page = 65536;
    const base: usize = @wasmMemorySize(0) * page;
    var cap: usize = 0;
    var len: usize = 0;
    while (true) {
        if (len == cap) {
            if (@wasmMemoryGrow(0, read_chunk_pages) < 0) fail("out of memory reading stdin");
            cap += read_chunk_pages * page;
        }
        const iov = [_]Iovec{.{ .base = @ptrFromInt(base + len), .len = cap - len }};
        var n: usize = 0;
        if (fd_read(0, &iov, 1, &n) != 0) fail("cannot read stdin");
        if (n == 0) break;
        len += n;
    }
    const buf: [*]u8 = @ptrFromInt(base);
    return buf[0..len];
}

// ------------------------------------------------------------- JSON scanning
// Every function takes the whole text `s` and an index, and returns an index.

pub fn skipWs(s: []const u8, start: usize) usize {
    var i = start;
    while (i < s.len and (s[i] == ' ' or s[i] == '\n' or s[i] == '\r' or s[i] == '\t')) i += 1;
    return i;
}

pub fn skipString(s: []const u8, start: usize) usize {
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

pub fn skipValue(s: []const u8, start: usize) usize {
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
pub fn member(obj: []const u8, key: []const u8) ?[]const u8 {
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
pub fn arrayLen(arr: []const u8) usize {
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

pub fn isString(raw: []const u8) bool {
    return raw.len >= 2 and raw[0] == '"';
}

/// Inner raw text of a string literal (escapes kept, valid inside a literal).
pub fn inner(raw: []const u8) []const u8 {
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

/// Decodes a string literal's escapes into `dest` (at least as long as the
/// literal; `dest` may be the literal's own bytes: nothing is written ahead
/// of what has been read) and returns the UTF-8 bytes.
pub fn decode(raw: []const u8, dest: []u8) []u8 {
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

pub fn decodeAlloc(raw: []const u8) []u8 {
    const dest = alloc.alloc(u8, raw.len) catch fail("out of memory");
    return decode(raw, dest);
}

pub fn parseInt(raw: []const u8) i64 {
    return std.fmt.parseInt(i64, raw, 10) catch fail("expected an integer");
}
