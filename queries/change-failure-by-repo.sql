-- Repositories ranked by change failure rate, worst first.
-- A production deployment failed when it was rolled back or an incident is attributed to it
-- (docs/metrics.md). Repositories with few deployments say little; raise min_deployments.
-- @param min_deployments int = 5 -- leave out repositories with fewer deployments in the window
SELECT
    repo,
    COUNT(*) AS deployments,
    SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
    ROUND(100.0 * SUM(CASE WHEN failed THEN 1 ELSE 0 END) / COUNT(*), 1) AS change_failure_pct,
    SUM(incidents) AS incidents
FROM production_deployments
GROUP BY repo
HAVING COUNT(*) >= $min_deployments
ORDER BY change_failure_pct DESC, deployments DESC, repo
