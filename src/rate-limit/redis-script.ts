import { createHash } from "node:crypto";

/**
 * The Redis side of the sliding window (the same algorithm as the memory store): each counter is a
 * hash of `slot → units`, 100 slots per window. The script reads the server's clock (`TIME`), so
 * replicas with skewed clocks agree, checks every key of the request, and charges them only when all
 * have room. Returns `allowed, (remaining, resetMs, keyAllowed) × keys`.
 *
 * KEYS: the counters (one hash tag, so the script is Cluster-safe). ARGV: `cost, limit, windowMs` per key.
 */
export const CONSUME_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local n = #KEYS
local allowed = 1
local out = {0}
local plans = {}
for i = 1, n do
  local cost = tonumber(ARGV[3 * i - 2])
  local limit = tonumber(ARGV[3 * i - 1])
  local window = tonumber(ARGV[3 * i])
  local width = math.max(1, math.ceil(window / 100))
  local flat = redis.call('HGETALL', KEYS[i])
  local live = {}
  local units = {}
  local dead = {}
  local total = 0
  for j = 1, #flat, 2 do
    local slot = tonumber(flat[j])
    local count = tonumber(flat[j + 1])
    if (slot + 1) * width + window <= now then
      dead[#dead + 1] = flat[j]
    else
      live[#live + 1] = slot
      units[slot] = count
      total = total + count
    end
  end
  if #dead > 0 then redis.call('HDEL', KEYS[i], unpack(dead)) end
  table.sort(live)
  local room = limit - total
  local fits = cost <= room
  local reset = 0
  if fits then
    if #live > 0 then reset = (live[1] + 1) * width + window - now end
  else
    allowed = 0
    reset = window
    if cost <= limit then
      local excess = total + cost - limit
      for j = 1, #live do
        excess = excess - units[live[j]]
        if excess <= 0 then
          reset = (live[j] + 1) * width + window - now
          break
        end
      end
    end
  end
  plans[i] = { cost = cost, room = room, width = width, window = window, oldest = live[1] }
  out[3 * i - 1] = math.max(0, room)
  out[3 * i] = reset
  out[3 * i + 1] = fits and 1 or 0
end
if allowed == 1 then
  for i = 1, n do
    local p = plans[i]
    local slot = math.floor(now / p.width)
    redis.call('HINCRBY', KEYS[i], string.format('%.0f', slot), p.cost)
    redis.call('PEXPIRE', KEYS[i], (slot + 1) * p.width + p.window - now)
    local oldest = p.oldest or slot
    out[3 * i - 1] = p.room - p.cost
    out[3 * i] = (oldest + 1) * p.width + p.window - now
  end
end
out[1] = allowed
return out
`;

/** SHA-1 of the script, for `EVALSHA`. */
export const CONSUME_SHA = createHash("sha1").update(CONSUME_SCRIPT).digest("hex");
