local t = setmetatable({}, { __index = function(_, k) return k .. "!" end })
local co = coroutine.wrap(function() coroutine.yield(1) return 2 end)
return { t.x, co(), co(), pcall(error, "x") }
