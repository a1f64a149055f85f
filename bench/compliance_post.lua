-- POST the same decision request each time: the body is the script's one argument (after --
-- on wrk's command line); the API token comes in an Authorization header (-H), as a pipeline
-- sends it, so no session or CSRF token is involved.
init = function(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["Content-Type"] = "application/json"
end
