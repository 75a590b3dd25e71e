// Stage 3 (JS): the WASM stage's vowel count becomes a report.
({
  summary: `"${ctx.input}" has ${ctx.count} vowels`,
  count: ctx.count,
  dense: ctx.count * 3 > ctx.input.length,
})
