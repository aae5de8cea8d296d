-- Lead time by batch size: do deployments that ship fewer commits get them out faster?
-- Groups the window's deployments by how many commits each shipped.
WITH sizes AS (
    SELECT deployment_id, COUNT(*) AS commits
    FROM changes
    GROUP BY deployment_id
),
sized AS (
    SELECT
        c.deployment_id,
        c.lead_time_hours,
        s.commits,
        CASE
            WHEN s.commits = 1 THEN '1'
            WHEN s.commits <= 5 THEN '2-5'
            WHEN s.commits <= 20 THEN '6-20'
            ELSE '21+'
        END AS commits_per_deployment,
        CASE WHEN s.commits = 1 THEN 1 WHEN s.commits <= 5 THEN 2 WHEN s.commits <= 20 THEN 3 ELSE 4 END AS bucket
    FROM changes c
    JOIN sizes s ON c.deployment_id = s.deployment_id
    WHERE c.counted
)
SELECT
    commits_per_deployment,
    COUNT(DISTINCT deployment_id) AS deployments,
    COUNT(*) AS changes,
    ROUND(MEDIAN(lead_time_hours), 2) AS median_lead_time_hours,
    ROUND(QUANTILE_CONT(lead_time_hours, 0.9), 2) AS p90_lead_time_hours
FROM sized
GROUP BY commits_per_deployment, bucket
ORDER BY bucket
