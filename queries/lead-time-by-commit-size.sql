-- Lead time by commit size: do small commits reach production faster?
-- The window's deployed commits with line counts (dora collect git counts them; additions and
-- deletions in commits.csv), in DORA 2025's survey buckets of lines per change, with their
-- lead time to the production deployment that shipped them.
WITH sized AS (
    SELECT
        c.lead_time_hours,
        m.additions + m.deletions AS lines
    FROM changes c
    JOIN commits m ON m.repo = c.repo AND m.sha = c.sha
    WHERE c.counted AND m.additions IS NOT NULL AND m.deletions IS NOT NULL
),
bucketed AS (
    SELECT
        CASE WHEN lines = 0 THEN 0 WHEN lines <= 10 THEN 1 WHEN lines <= 50 THEN 2
             WHEN lines <= 100 THEN 3 WHEN lines <= 250 THEN 4 ELSE 5 END AS bucket,
        CASE WHEN lines = 0 THEN 'no lines' WHEN lines <= 10 THEN '1-10 lines'
             WHEN lines <= 50 THEN '11-50 lines' WHEN lines <= 100 THEN '51-100 lines'
             WHEN lines <= 250 THEN '101-250 lines' ELSE 'more than 250 lines' END AS size,
        lead_time_hours
    FROM sized
)
SELECT
    size,
    COUNT(*) AS commits,
    ROUND(MEDIAN(lead_time_hours), 2) AS median_lead_time_hours,
    ROUND(QUANTILE_CONT(lead_time_hours, 0.9), 2) AS p90_lead_time_hours
FROM bucketed
GROUP BY size, bucket
ORDER BY bucket
