-- wrk script: a realistic mix of AdmissionReviews (allowed pods, denied pods, deployments),
-- each with its own uid, and p50/p95/p99 in milliseconds at the end.
local bodies = {}
local dir = os.getenv("BODIES") or "."
for _, name in ipairs({"allowed-pod", "allowed-pod", "denied-pod", "deployment", "allowed-pod"}) do
  local f = assert(io.open(dir .. "/" .. name .. ".json", "r"))
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end
local counter = 0
request = function()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]:gsub("__UID__", tostring(counter))
  return wrk.format("POST", "/validate", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f requests=%d p50=%.3f p95=%.3f p99=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
