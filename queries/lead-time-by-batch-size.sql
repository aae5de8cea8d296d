-- Lead time by batch size: do deployments that ship fewer commits get them out faster?
-- Groups the window's deployments by how many commits each shipped, in DORA 2025's survey
-- buckets (1, 2-10, 11-50, 51-100, more than 100), and gives their changes' lead time.
WITH sized AS (
    SELECT
        c.deployment_id,
        c.lead_time_hours,
        d.commits_shipped,
        CASE
            WHEN d.commits_shipped = 1 THEN '1'
            WHEN d.commits_shipped <= 10 THEN '2-10'
            WHEN d.commits_shipped <= 50 THEN '11-50'
            WHEN d.commits_shipped <= 100 THEN '51-100'
            ELSE 'more than 100'
        END AS commits_per_deployment,
        CASE
            WHEN d.commits_shipped = 1 THEN 1
            WHEN d.commits_shipped <= 10 THEN 2
            WHEN d.commits_shipped <= 50 THEN 3
            WHEN d.commits_shipped <= 100 THEN 4
            ELSE 5
        END AS bucket
    FROM changes c
    JOIN production_deployments d ON c.deployment_id = d.id
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
