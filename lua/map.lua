-- map.lua: mat.map(f, items [, opts]), a parallel map over worker
-- processes forked for the call.  This part checks the options and draws
-- the progress bar; the C helpers underneath (src/lua/lmap*.c) check f
-- and items, fork the team, run the workers and decode their results.
-- The loop below runs a few times a second (map_collect takes every
-- result that arrives meanwhile), never once per item.
local mat, C = ...

local check_opts, check_int, raise = C.check_opts, C.check_int, C.error
local typename = C.typename
local map_items, map_start, map_collect = C.map_items, C.map_start,
  C.map_collect
local default_procs, MAX_PROCS = mat.procs, C.map_max_procs()

local OPTIONS = {"chunk", "procs", "progress", "seed"}

-- procs, chunk (0: guided), seed (nil: none), progress (nil: default).
local function read_opts(opts)
  local procs, chunk, seed, progress = default_procs(), 0, nil, nil
  if not check_opts("mat.map", opts, OPTIONS) then
    return procs, chunk, seed, progress
  end
  if opts.procs ~= nil then
    procs = check_int(opts.procs, "mat.map", "opts.procs")
    if procs < 1 or procs > MAX_PROCS then
      raise(("mat.map: opts.procs must be between 1 and %d (got %d)")
        :format(MAX_PROCS, procs))
    end
  end
  if opts.chunk ~= nil then
    chunk = check_int(opts.chunk, "mat.map", "opts.chunk")
    if chunk < 1 then
      raise(("mat.map: opts.chunk must be a positive integer (got %d)")
        :format(chunk))
    end
  end
  if opts.seed ~= nil then seed = check_int(opts.seed, "mat.map", "opts.seed") end
  progress = opts.progress
  if progress ~= nil and type(progress) ~= "boolean" then
    raise(("mat.map: opts.progress must be a boolean (got %s)")
      :format(typename(progress)))
  end
  return procs, chunk, seed, progress
end

function mat.map(f, items, opts)
  local n = map_items(f, items)
  local procs, chunk, seed, progress = read_opts(opts)
  if n == 0 then return {} end
  local bar <close> = C.progress.new{label = "mat.map", total = n,
    show = progress, after = 1, keep = true}
  local team <close> = map_start(f, items, n, procs, chunk, seed)
  while true do
    local done, results = map_collect(team, bar:wait_ms())
    if results then
      bar:finish(n)
      return results
    end
    bar:update(done)
  end
end
