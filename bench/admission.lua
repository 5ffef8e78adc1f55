-- wrk script: a realistic mix of AdmissionReviews (allowed pods, denied pods, deployments, as
-- bench/admission-bodies.py writes them), each with its own uid, and p50/p95/p99 in
-- milliseconds at the end. Each body is split at its uid once, so that a request costs the
-- load generator a concatenation, not a scan of the body.
local parts = {}
local dir = os.getenv("BODIES") or "."
for _, name in ipairs({"allowed-pod", "allowed-pod", "denied-pod", "deployment", "allowed-pod"}) do
  local f = assert(io.open(dir .. "/" .. name .. ".json", "r"))
  local body = f:read("*a")
  f:close()
  local at = assert(body:find("__UID__", 1, true), name .. ": no __UID__")
  parts[#parts + 1] = {body:sub(1, at - 1), body:sub(at + 7)}
end
local headers = {["Content-Type"] = "application/json"}
local counter = 0
request = function()
  counter = counter + 1
  local p = parts[(counter % #parts) + 1]
  return wrk.format("POST", "/validate", headers, p[1] .. counter .. p[2])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f requests=%d p50=%.3f p95=%.3f p99=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
