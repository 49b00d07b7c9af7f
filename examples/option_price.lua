-- option_price.lua: a seeded Monte Carlo -- the price of a European call
-- option under Black-Scholes, estimated from simulated final prices and
-- checked against the closed form.
--
--   mpl examples/option_price.lua [paths [seed]]   (defaults: 10^6, 42)
--
-- The final price of the stock is S0 exp((r - s^2/2) T + s sqrt(T) Z) with
-- Z standard normal; the option pays max(S_T - K, 0) at T, discounted by
-- exp(-r T).  The script reports the estimate with its standard error, the
-- closed-form price, and the 5% and 95% quantiles of S_T against the
-- lognormal's.  The same seed gives the same numbers, bit for bit, on
-- every machine.  Run as a chunk (dofile), it returns a table of them.

local paths = math.tointeger(tonumber((...) or 1e6))
local seed = math.tointeger(tonumber(select(2, ...) or 42))
local S0, K, r, s, T = 100, 105, 0.03, 0.2, 1.5

mat.seed(seed)
local Z = mat.randn(1, paths)
local drift, vol = (r - s * s / 2) * T, s * math.sqrt(T)
local ST = (Z * vol + drift):exp() * S0
local gain = ST - K
local payoff = (gain + gain:abs()) / 2 -- max(S_T - K, 0)
local disc = math.exp(-r * T)
local price = disc * payoff:mean()
local se = disc * payoff:std { ddof = 1 } / math.sqrt(paths)

-- the standard normal distribution function, from a rational
-- approximation of erfc (Numerical Recipes; error below 1.2e-7, plenty here)
local function Phi(x)
  local z = math.abs(x) / math.sqrt(2)
  local t = 1 / (1 + 0.5 * z)
  local e = t * math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 +
    t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 +
    t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 and 1 - e / 2 or e / 2
end

local d1 = (math.log(S0 / K) + (r + s * s / 2) * T) / (s * math.sqrt(T))
local d2 = d1 - s * math.sqrt(T)
local exact = S0 * Phi(d1) - K * disc * Phi(d2)
local q05, q95 = ST:quantile(0.05), ST:quantile(0.95)
local z95 = 1.6448536269514722
local l05, l95 = S0 * math.exp(drift - z95 * vol), S0 * math.exp(drift + z95 * vol)

print(("%d paths, seed %d"):format(paths, seed))
print(("Monte Carlo price %.4f +- %.4f (one standard error)"):format(price, se))
print(("Black-Scholes price %.4f (%.1f standard errors away)"):format(exact,
      math.abs(price - exact) / se))
print(("S_T quantiles 5%%: %.3f (lognormal %.3f), 95%%: %.3f (lognormal %.3f)")
      :format(q05, l05, q95, l95))

return { price = price, se = se, exact = exact, q05 = q05, q95 = q95, l05 = l05,
         l95 = l95 }
