-- Production deployments per week and repository, with how many failed.
-- Weeks are ISO weeks in --tz (use --period day|month for other periods).
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    period_start,
    repo,
    COUNT(*) AS deployments,
    SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
    SUM(CASE WHEN rework THEN 1 ELSE 0 END) AS rework
FROM production_deployments
WHERE repo LIKE $repo
GROUP BY period_start, repo
ORDER BY period_start, repo
