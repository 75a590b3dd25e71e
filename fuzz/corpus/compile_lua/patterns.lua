local s = "hello world from lua"
local words = {}
for w in s:gmatch("%a+") do words[#words + 1] = w end
return { n = #words, sub = (s:gsub("o", "0")), find = s:find("wor", 1, true) }
