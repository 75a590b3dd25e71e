-- Reads `ctx.name` and returns a greeting with its length in bytes.
local greeting = "Hello, " .. ctx.name .. "!"
return {
  greeting = greeting,
  length = #greeting,
}
