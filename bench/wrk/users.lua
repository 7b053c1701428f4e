-- wrk: GET a known user's recommendations, a random user from $USERS (one id per line) each time.
local ids = {}
for line in io.lines(os.getenv("USERS")) do ids[#ids + 1] = line end
local query = os.getenv("QUERY") or "k=10"
request = function()
  return wrk.format("GET", "/api/v1/users/" .. ids[math.random(#ids)] .. "/recommendations?" .. query)
end
