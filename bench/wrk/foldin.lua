-- wrk: POST a new user's ratings for fold-in, a random body from $BODIES (one JSON per line).
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local query = os.getenv("QUERY") or "k=10"
request = function()
  return wrk.format("POST", "/api/v1/recommendations?" .. query,
    { ["Content-Type"] = "application/json" }, bodies[math.random(#bodies)])
end
