-- The gateway's metrics: Workers Analytics Engine SQL over the METRICS
-- dataset, one data point per request (layout: docs/operations.md, "Metrics").
-- `make stats ENV=… [SINCE=24h]` runs each query below, with the dataset of
-- that environment and the window it is given in place of
-- `upscope_gateway_production` and `INTERVAL '24' HOUR`. Paste any of them
-- into the Analytics Engine SQL API, Grafana (the Altinity ClickHouse plugin
-- pointed at the SQL API) or a dashboard as they are.
--
-- Each data point stands for `_sample_interval` requests (Analytics Engine
-- samples at high volume), so counts are sums of it and quantiles are
-- weighted by it.
--
-- index1 route; blob1 outcome; blob2 cache; blob3 version id; blob4 crate
-- version; blob5..blob12 upstream call n's endpoint; blob13..blob20 call n's
-- error; double1 HTTP status; double2 total ms; double3 upstream calls;
-- double4..double11 call n's status; double12..double19 call n's ms.

-- name: totals
-- Requests, and how many were answered 4xx and 5xx.
SELECT
  SUM(_sample_interval) AS requests,
  SUM(IF(double1 >= 400 AND double1 < 500, _sample_interval, 0)) AS status_4xx,
  SUM(IF(double1 >= 500, _sample_interval, 0)) AS status_5xx
FROM upscope_gateway_production
WHERE timestamp > NOW() - INTERVAL '24' HOUR;

-- name: latency
-- p50 and p95 of the whole request's time, per route.
SELECT
  index1 AS route,
  SUM(_sample_interval) AS requests,
  quantileExactWeighted(0.5)(double2, _sample_interval) AS p50_ms,
  quantileExactWeighted(0.95)(double2, _sample_interval) AS p95_ms
FROM upscope_gateway_production
WHERE timestamp > NOW() - INTERVAL '24' HOUR
GROUP BY route
ORDER BY requests DESC;

-- name: upstream_failures
-- Requests that failed because of Upscope, by route and cause (the error
-- code the gateway answered with: upstream_timeout, upstream_unavailable, …).
SELECT
  index1 AS route,
  blob1 AS cause,
  SUM(_sample_interval) AS requests
FROM upscope_gateway_production
WHERE timestamp > NOW() - INTERVAL '24' HOUR
  AND blob1 LIKE 'upstream_%'
GROUP BY route, cause
ORDER BY requests DESC;

-- name: sessions_per_hour
-- Sessions started (a redirect to a proxy session or a watch_url) per hour and route.
SELECT
  toStartOfInterval(timestamp, INTERVAL '1' HOUR) AS hour,
  index1 AS route,
  SUM(_sample_interval) AS sessions
FROM upscope_gateway_production
WHERE timestamp > NOW() - INTERVAL '24' HOUR
  AND blob1 = 'redirect'
GROUP BY hour, route
ORDER BY hour, route;
