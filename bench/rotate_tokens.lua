-- wrk script for bench/run: sends `Authorization: Bearer <token>` taking the tokens in turn
-- from a file (one per line), so that consecutive requests carry different tokens.
--
--   wrk ... -s rotate_tokens.lua http://127.0.0.1:PORT/ TOKEN_FILE START
--
-- Every thread loads the whole file in init() and builds its requests there (request()
-- only picks the next one, so wrk spends the same per request whatever the token). Thread k
-- of T starts at START + k * N/T (N tokens), so threads do not send the same token at about
-- the same time. done() (in bench/run's report script) calls rotate_report(), which prints
-- the largest number of requests one thread built; bench/run passes START + that (+ slack)
-- to the next run, so a warmup and the measured run that follows do not replay the same
-- tokens. A file with one token sends that token on every request.

local rotate_threads = {}

function setup(thread)
  thread:set("rotate_id", #rotate_threads)
  table.insert(rotate_threads, thread)
end

function init(args)
  -- args[0] is the URL; the script's own arguments follow it.
  local path, start = args[1], tonumber(args[2] or "0")
  local nthreads = tonumber(args[3] or "1")
  if not path then
    error("rotate_tokens.lua: usage: ... URL TOKEN_FILE [START [THREADS]]")
  end
  rotate_requests = {}
  for line in io.lines(path) do
    if line ~= "" then
      local headers = {}
      for k, v in pairs(wrk.headers) do headers[k] = v end
      headers["Authorization"] = "Bearer " .. line
      rotate_requests[#rotate_requests + 1] = wrk.format(nil, nil, headers)
    end
  end
  rotate_n = #rotate_requests
  if rotate_n == 0 then
    error("rotate_tokens.lua: no tokens in " .. path)
  end
  rotate_pos = (start + rotate_id * math.floor(rotate_n / nthreads)) % rotate_n  -- 0-based
  rotate_sent = 0
end

function request()
  rotate_pos = rotate_pos + 1
  if rotate_pos > rotate_n then rotate_pos = 1 end
  rotate_sent = rotate_sent + 1
  return rotate_requests[rotate_pos]
end

function rotate_report()
  local most = 0
  for _, t in ipairs(rotate_threads) do
    local sent = t:get("rotate_sent") or 0
    if sent > most then most = sent end
  end
  io.write(string.format('BENCHROTATE {"max_thread_requests":%d,"threads":%d}\n',
                         most, #rotate_threads))
end
