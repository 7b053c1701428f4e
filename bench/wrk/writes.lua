-- wrk: list writes, PUT /api/v1/me/list/{anime} with a random token from $TOKENS, a random anime
-- from $ANIME and a random score and status (0 or 1 episodes: every anime has at least one).
local tokens, anime = {}, {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
for line in io.lines(os.getenv("ANIME")) do anime[#anime + 1] = line end
local statuses = { "watching", "completed", "on_hold", "dropped", "plan_to_watch" }
request = function()
  local body = string.format('{"score": %d, "status": "%s", "episodes": %d}',
    math.random(0, 10), statuses[math.random(#statuses)], math.random(0, 1))
  return wrk.format("PUT", "/api/v1/me/list/" .. anime[math.random(#anime)],
    { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
      ["Content-Type"] = "application/json" }, body)
end
