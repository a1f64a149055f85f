-- PATCH a consortium's charter with a new value each time, so every request is a real change.
counter = 0
request = function()
  counter = counter + 1
  local body = '{"charter": "Charter revision ' .. counter .. '"}'
  return wrk.format("PATCH", nil, nil, body)
end
