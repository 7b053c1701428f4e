-- wrk: a sign-in storm, POST /api/v1/tokens with the right password of a random fan from
-- $CREDENTIALS (username TAB password per line): Argon2id at full cost on every request.
local bodies = {}
for line in io.lines(os.getenv("CREDENTIALS")) do
  local name, password = line:match("([^\t]+)\t(.+)")
  bodies[#bodies + 1] = string.format('{"username": "%s", "password": "%s", "name": "storm"}', name, password)
end
request = function()
  return wrk.format("POST", "/api/v1/tokens", { ["Content-Type"] = "application/json" },
    bodies[math.random(#bodies)])
end
