-- Stage 1 (Lua): turn a raw record into the text the WASM stage analyses.
local name = ctx.name:gsub("^%s+", ""):gsub("%s+$", "")
return { input = name .. " likes " .. table.concat(ctx.tags, " and ") }
