-- When do deployments go out, and when do they fail? Deployments per local hour of the day.
SELECT
    EXTRACT(HOUR FROM deployed_local) AS hour,
    COUNT(*) AS deployments,
    SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
    ROUND(100.0 * SUM(CASE WHEN failed THEN 1 ELSE 0 END) / COUNT(*), 1) AS change_failure_pct
FROM production_deployments
GROUP BY hour
ORDER BY hour
