-- Deployment attempts of the window by repository and environment: succeeded, failed, rolled back.
-- A failed attempt never reached users; a rolled-back one did. Reads the deployments table only, so any
-- engine reading the store's Parquet files gets the same answer (.ci/cross-engine.py checks
-- this with DuckDB).
SELECT
    repo,
    environment,
    COUNT(*) AS attempts,
    SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS succeeded,
    SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END) AS failed,
    SUM(CASE WHEN status = 'rolled_back' THEN 1 ELSE 0 END) AS rolled_back
FROM deployments
WHERE deployed_at >= $since AND deployed_at < $until
GROUP BY repo, environment
ORDER BY repo, environment
