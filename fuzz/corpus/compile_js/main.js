function main(ctx) {
  const out = {};
  for (const [k, v] of Object.entries(ctx)) out[k.toUpperCase()] = v;
  return out;
}
