-- A weighted mix of requests (bench/load_prepare.py writes it as a Lua table): each request
-- carries its own method, headers (a session cookie or an API token) and body. Arguments
-- after --: the mix file, then optionally one label to send only that request kind.
local requests = {}
local total = 0

init = function(args)
  local mix = dofile(args[1])
  for _, r in ipairs(mix) do
    if args[2] == nil or args[2] == r.label then
      total = total + r.weight
      -- Formatted once: wrk then only copies the bytes of the chosen request.
      table.insert(requests, {upto = total, text = wrk.format(r.method, r.path, r.headers, r.body)})
    end
  end
  -- The same sequence of picks in every run, so paired runs send the same mix.
  math.randomseed(20261204)
end

request = function()
  local pick = math.random() * total
  for _, r in ipairs(requests) do
    if pick <= r.upto then
      return r.text
    end
  end
  return requests[#requests].text
end
