-- wrk: GET a story search, a random query of bench/story/queries.tsv each time. With UNIQUE=1 a
-- request number is added to each query, so no two requests ask the same words (every query is
-- embedded; without it, repeated queries come from the server's cache of query embeddings).
local queries = {}
local first = true
for line in io.lines(os.getenv("QUERIES") or "bench/story/queries.tsv") do
  if not first then queries[#queries + 1] = line:match("^([^\t]+)") end
  first = false
end
local unique = os.getenv("UNIQUE") == "1"
local n = 0
local function encode(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed((id or 0) * 7919)
end
request = function()
  n = n + 1
  local q = queries[math.random(#queries)]
  if unique then q = q .. " " .. (id or 0) .. "-" .. n end
  return wrk.format("GET", "/api/v1/search?k=10&q=" .. encode(q))
end
