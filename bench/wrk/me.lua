-- wrk: a signed-in fan's recommendations, with a random token from $TOKENS (one per line).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
request = function()
  return wrk.format("GET", "/api/v1/me/recommendations?k=10",
    { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
