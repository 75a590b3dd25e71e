//! polyscript's bounded `string.find/match/gmatch/gsub/rep` against the
//! vendored Lua's own C implementation: the same calls, run in a plain Lua
//! state and in one with [`install_bounded_functions`], must give the same
//! results and the same errors, on a corpus of cases and on generated ones.

use mlua::{Lua, Value};
use polyscript_lua::{install_bounded_functions, mlua};
use proptest::prelude::*;

/// Runs one call and describes everything it did: the results (with
/// integer/float subtypes), the error message, and for `gsub` with a
/// function the arguments of every call of it. Uses no pattern function
/// itself. Each call is made three times: from Lua code (errors then carry
/// the caller's position), through `pcall` of a Lua function, and with
/// `pcall` calling the library function itself (no position; the name in
/// argument errors is the global one).
const DRIVER: &str = r##"
local fname, mode, a1, a2, a3, a4 = ...
local fmt, concat, select, type, tostring = string.format, table.concat, select, type, tostring
local function ser(v)
  local t = type(v)
  if t == "string" then return fmt("%q", v)
  elseif t == "number" then return math.type(v) .. ":" .. tostring(v)
  else return tostring(v == nil and "nil" or (t == "boolean" and tostring(v) or t)) end
end
local function ser_all(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = ser((select(i, ...))) end
  return "(" .. concat(out, ",") .. ")"
end
local log = {}
local function replacer(...)
  log[#log + 1] = ser_all(...)
  local first = ...
  if mode == "func_nil" then return nil
  elseif mode == "func_false" then return false
  elseif mode == "func_table" then return {}
  elseif mode == "func_number" then return #log + 0.5
  elseif mode == "func_count" then return #log
  else return type(first) == "string" and first:upper() .. "<" .. #log .. ">" or first end
end
local function call(...)
  local f = string[fname]
  if fname == "gmatch" then
    local it = f(...)
    local out = {}
    for i = 1, 100 do
      local r = table.pack(it())
      if r[1] == nil then break end
      out[i] = ser_all(table.unpack(r, 1, r.n))
    end
    return concat(out, ";")
  end
  return f(...)
end
local args = table.pack(a1, a2, a3, a4)
if fname == "gsub" then
  if mode:sub(1, 4) == "func" then args[3] = replacer
  elseif mode == "table" then
    args[3] = { a = "A", b = false, c = 7, ["1"] = "one", x = {}, [""] = "empty" }
  end
end
local function direct()
  local r = table.pack(call(table.unpack(args, 1, args.n)))
  return ser_all(table.unpack(r, 1, r.n))
end
local outcome = {}
for round = 1, 3 do
  log = {}
  local ok, got
  if round == 1 then ok, got = pcall(direct)
  else
    -- Through a Lua function, then with pcall calling the C function itself
    -- (argument errors then name it 'string.find', and carry no position).
    local f = round == 2 and call or string[fname]
    local r = table.pack(pcall(f, table.unpack(args, 1, args.n)))
    ok, got = r[1], ser_all(table.unpack(r, 2, r.n))
  end
  outcome[round] = (ok and "ok " or "error ") .. tostring(got) .. " calls " .. concat(log, " ")
end
return concat(outcome, " | ")
"##;

/// An argument of a case.
#[derive(Debug, Clone)]
enum Arg {
    None,
    Nil,
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    Bool(bool),
}

impl Arg {
    fn s(text: &str) -> Arg {
        Arg::Str(text.as_bytes().to_vec())
    }

    fn value(&self, lua: &Lua) -> Value {
        match self {
            Arg::None | Arg::Nil => Value::Nil,
            Arg::Int(i) => Value::Integer(*i),
            Arg::Float(f) => Value::Number(*f),
            Arg::Str(bytes) => Value::String(lua.create_string(bytes).unwrap()),
            Arg::Bool(b) => Value::Boolean(*b),
        }
    }
}

/// One call: the function, the gsub mode, and up to four arguments.
#[derive(Debug, Clone)]
struct Case {
    function: &'static str,
    mode: &'static str,
    args: Vec<Arg>,
}

struct States {
    c: (Lua, mlua::Function),
    rust: (Lua, mlua::Function),
}

impl States {
    fn new() -> Self {
        let state = |bounded: bool| {
            let lua = Lua::new();
            if bounded {
                install_bounded_functions(&lua).unwrap();
            }
            let driver = lua
                .load(DRIVER)
                .set_name("=driver")
                .into_function()
                .unwrap();
            (lua, driver)
        };
        States {
            c: state(false),
            rust: state(true),
        }
    }

    fn run(state: &(Lua, mlua::Function), case: &Case) -> String {
        let (lua, driver) = state;
        let mut args = vec![
            Value::String(lua.create_string(case.function).unwrap()),
            Value::String(lua.create_string(case.mode).unwrap()),
        ];
        // Trailing "no value" arguments are left out (Lua tells "no value"
        // from nil), so the driver packs exactly the given ones.
        let given = case
            .args
            .iter()
            .rposition(|a| !matches!(a, Arg::None))
            .map_or(0, |i| i + 1);
        args.extend(case.args[..given].iter().map(|a| a.value(lua)));
        driver
            .call::<String>(mlua::MultiValue::from_iter(args))
            .unwrap_or_else(|e| format!("driver failed: {e}"))
    }

    fn check(&self, case: &Case) {
        let want = Self::run(&self.c, case);
        let got = Self::run(&self.rust, case);
        assert_eq!(got, want, "{case:?}");
    }
}

fn case(function: &'static str, args: Vec<Arg>) -> Case {
    Case {
        function,
        mode: "string",
        args,
    }
}

fn s(text: &str) -> Arg {
    Arg::s(text)
}

/// Hand-picked cases for every feature and every error of the matcher and
/// the five functions.
fn corpus() -> Vec<Case> {
    use Arg::*;
    let mut cases = Vec::new();
    let subjects = [
        "hello world from Lua",
        "THE (quick) fox, jumps; over 12 lazy-dogs!\t\n\x0b\x0c\r",
        "key = value; other=thing",
        "f(a(b)c)d [x[y]z] {\"q\"}",
        "aaa",
        "",
        "x\0y\0z",
        "\u{e9}t\u{e9} caf\u{e9} \u{1f600}",
        "  trim me  ",
        "a,b,,c,",
        "abcabcabc",
        "1.5e10 -3 0x1F +7",
    ];
    let patterns = [
        "o",
        "l+",
        "l*",
        "l-",
        "l?",
        "^h",
        "d$",
        "^$",
        ".",
        ".-",
        "(.)",
        "()",
        "()o()",
        "%a+",
        "%d+",
        "%l+",
        "%s+",
        "%u+",
        "%w+",
        "%x+",
        "%p+",
        "%c+",
        "%g+",
        "%A+",
        "%D+",
        "%L+",
        "%S+",
        "%U+",
        "%W+",
        "%X+",
        "%P+",
        "%C+",
        "%G+",
        "%z",
        "%Z+",
        "[aeiou]",
        "[^aeiou]+",
        "[a-f]+",
        "[%a_][%w_]*",
        "[%]]",
        "[]]",
        "[^]]+",
        "[a-]",
        "[-a]",
        "[%d%.eE+-]+",
        "[\0-\x1f]",
        "%b()",
        "%b[]",
        "%b{}",
        "%b\"\"",
        "%f[%a]%a+",
        "%f[%A]",
        "%f[%w]%w+",
        "%f[\0]",
        "%f[^\0]",
        "(%a+)%s*=%s*(%a+)",
        "(a)(b)(c)%3%2%1",
        "(abc)%1+",
        "((a)(b))",
        "(h)(e)(l)(l)(o)",
        "%.",
        "%%",
        "a.b",
        "x%zy",
        "^(%s*)(.-)(%s*)$",
        "([^,]*)",
        "(.-),",
        "%s*$",
        "^%s*",
        "(%d+)%.?(%d*)",
        "$",
        "^",
        "(()a()b?)",
        // Malformed patterns and bad capture use: Lua's errors.
        "%",
        "[a",
        "[^",
        "[]",
        "(",
        ")",
        "a)",
        "(()",
        "%b",
        "%bx",
        "%f",
        "%fx",
        "%1",
        "(a)%2",
        "(a%1)",
        "%0",
        "[%",
        "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
    ];
    for subject in subjects {
        for pattern in patterns {
            for function in ["find", "match", "gmatch"] {
                cases.push(case(function, vec![s(subject), s(pattern)]));
            }
            cases.push(case("gsub", vec![s(subject), s(pattern), s("<%0>")]));
            for mode in ["func", "func_nil", "func_count", "table"] {
                cases.push(Case {
                    function: "gsub",
                    mode,
                    args: vec![s(subject), s(pattern), Nil],
                });
            }
        }
    }
    // init, plain, anchors, empty matches.
    for init in [
        -100,
        -5,
        -1,
        0,
        1,
        2,
        5,
        19,
        20,
        21,
        22,
        100,
        i64::MIN,
        i64::MAX,
    ] {
        for pattern in ["o", "", "^", "^h", "l*", "()", ".", "o w"] {
            cases.push(case("find", vec![s("hello world"), s(pattern), Int(init)]));
            cases.push(case(
                "find",
                vec![s("hello world"), s(pattern), Int(init), Bool(true)],
            ));
            cases.push(case("match", vec![s("hello world"), s(pattern), Int(init)]));
            cases.push(case(
                "gmatch",
                vec![s("hello world"), s(pattern), Int(init)],
            ));
        }
    }
    for plain in ["a.b", "%d", "(", "[", "^a", "a$", "", "x\0y"] {
        for p4 in [Bool(true), Bool(false), Nil, Int(0), s("")] {
            cases.push(case(
                "find",
                vec![s("xa.b(%d[^a$x\0y"), s(plain), Nil, p4.clone()],
            ));
            cases.push(case(
                "find",
                vec![s("xa.b(%d[^a$x\0y"), s(plain), Int(3), p4],
            ));
        }
    }
    // gsub: replacement strings, max n, anchors.
    for repl in [
        "", "x", "%0", "%1", "%2", "%%", "%", "a%", "%a", "[%1|%0]", "%9", "%1%1", "\0",
    ] {
        for pattern in [
            "", "o", "(o)", "(l)(l)", "()l", "^h", "^(h)", "l*", "x*", "(", "%",
        ] {
            cases.push(case("gsub", vec![s("hello world"), s(pattern), s(repl)]));
        }
    }
    for n in [-1, 0, 1, 2, 3, 100] {
        cases.push(case("gsub", vec![s("hello world"), s("o"), s("0"), Int(n)]));
        cases.push(case("gsub", vec![s("hello world"), s(""), s("-"), Int(n)]));
        cases.push(case(
            "gsub",
            vec![s("abc"), s("%w"), s("%0%0"), Float(n as f64)],
        ));
    }
    for mode in [
        "func",
        "func_nil",
        "func_false",
        "func_table",
        "func_number",
        "func_count",
        "table",
    ] {
        for pattern in ["%w+", "(%w)(%w)", "()", "", "(a)()", "(%w+)=(%w+)"] {
            cases.push(Case {
                function: "gsub",
                mode,
                args: vec![s("a=b, cc=dd 1 x"), s(pattern), Nil],
            });
        }
    }
    // Numbers as strings, and argument errors.
    cases.push(case("find", vec![Int(12345), Int(3)]));
    cases.push(case("find", vec![Float(1.5), s("%.")]));
    cases.push(case("match", vec![Int(2025), s("(%d%d)(%d%d)")]));
    cases.push(case("gsub", vec![Int(1000), s("0"), Int(7)]));
    cases.push(case("gsub", vec![Int(1000), s("0"), Float(0.5)]));
    cases.push(case("find", vec![Nil, s("a")]));
    cases.push(case("find", vec![s("a")]));
    cases.push(case("find", vec![]));
    cases.push(case("find", vec![s("a"), Bool(true)]));
    cases.push(case("find", vec![s("abc"), s("b"), Float(2.0)]));
    cases.push(case("find", vec![s("abc"), s("b"), Float(2.5)]));
    cases.push(case("find", vec![s("abc"), s("b"), s("2")]));
    cases.push(case("find", vec![s("abc"), s("b"), s("x")]));
    cases.push(case("match", vec![s("abc"), Nil]));
    cases.push(case("gmatch", vec![Nil, s("a")]));
    cases.push(case("gmatch", vec![s("abc"), s("."), Float(1.5)]));
    cases.push(case("gsub", vec![s("abc"), s("b")]));
    cases.push(case("gsub", vec![s("abc"), s("b"), Bool(true)]));
    cases.push(case("gsub", vec![s("abc"), s("b"), s("x"), s("y")]));
    cases.push(case("gsub", vec![s("abc"), s("b"), s("x"), Float(1.5)]));
    cases.push(case("gsub", vec![s("abc"), Nil, s("x")]));
    // string.rep.
    for (text, n, sep) in [
        ("ab", Int(3), None),
        ("ab", Int(3), s(", ")),
        ("", Int(5), s("-")),
        ("x", Int(0), s("-")),
        ("x", Int(-3), None),
        ("x", Int(1), s("-")),
        ("", Int(1000), None),
        ("ab", Float(2.0), None),
        ("ab", Float(2.5), None),
        ("ab", s("3"), None),
        ("ab", Nil, None),
        ("ab", Int(1 << 40), None),
        ("ab", Int(1 << 30), s("x")),
    ] {
        cases.push(case("rep", vec![s(text), n, sep]));
    }
    cases.push(case("rep", vec![Nil, Int(1)]));
    cases.push(case("rep", vec![Int(7), Int(3)]));
    cases
}

#[test]
fn the_corpus_matches_lua_exactly() {
    let states = States::new();
    let cases = corpus();
    assert!(cases.len() > 3000, "{} cases", cases.len());
    for case in &cases {
        states.check(case);
    }
}

#[test]
fn deep_patterns_are_too_complex_in_both() {
    let states = States::new();
    // Each of `a?` costs one level of `match`: 200 is Lua's MAXCCALLS.
    for n in [150, 199, 200, 201, 250] {
        let subject = "a".repeat(n);
        let pattern = "a?".repeat(n);
        for function in ["find", "match", "gmatch"] {
            states.check(&case(function, vec![s(&subject), s(&pattern)]));
        }
        states.check(&case("gsub", vec![s(&subject), s(&pattern), s("x")]));
    }
    // 32 captures are allowed, 33 are too many.
    for n in [31, 32, 33] {
        let pattern = "(a)".repeat(n);
        states.check(&case("match", vec![s(&"a".repeat(40)), s(&pattern)]));
    }
}

#[test]
fn empty_repetition_is_instant_where_c_would_spin() {
    // C copies nothing `n - 1` times; the port returns at once.
    let (lua, _) = &States::new().rust;
    let got: (usize, usize) = lua
        .load("return #string.rep('', math.maxinteger), #string.rep('', math.maxinteger, '')")
        .eval()
        .unwrap();
    assert_eq!(got, (0, 0));
}

fn pattern_token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a", "b", "c", "(", ")", ".", " ", "%a", "%d", "%s", "%w", "%p", "%l", "%u", "%x", "%c",
        "%g", "%A", "%S", "%W", "[ab]", "[^a]", "[a-c]", "[%d%s]", "[]]", "[^]]", "[", "]", "%b()",
        "%bab", "%f[%w]", "%f[^a]", "%f[a]", "()", "%1", "%2", "%0", "*", "+", "-", "?", "^", "$",
        "%", "%b", "%f", "%z", "%%", "%.", "\0",
    ])
}

fn pattern() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(pattern_token(), 0..9)).prop_map(|(anchor, tokens)| {
        let body = tokens.concat();
        if anchor { format!("^{body}") } else { body }
    })
}

fn subject() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(b"aabbc()1 _.AZ\0\xe9-]".to_vec()),
        0..24,
    )
}

fn replacement() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["x", "%0", "%1", "%2", "%%", "%", "%a", "-", ""]),
        0..4,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_cases_match_lua(
        subject in subject(),
        pattern in pattern(),
        init in prop::option::of(-30i64..30),
        plain in any::<bool>(),
        repl in replacement(),
        mode in prop::sample::select(vec!["string", "func", "func_nil", "func_count", "table"]),
        max_n in prop::option::of(-1i64..5),
    ) {
        let states = States::new();
        let init_arg = init.map_or(Arg::None, Arg::Int);
        let p = Arg::s(&pattern);
        let sub = Arg::Str(subject);
        for function in ["find", "match", "gmatch"] {
            states.check(&case(function, vec![sub.clone(), p.clone(), init_arg.clone()]));
        }
        states.check(&case("find", vec![sub.clone(), p.clone(), init_arg.clone(), Arg::Bool(plain)]));
        states.check(&Case {
            function: "gsub",
            mode,
            args: vec![sub, p, Arg::s(&repl), max_n.map_or(Arg::None, Arg::Int)],
        });
    }
}
