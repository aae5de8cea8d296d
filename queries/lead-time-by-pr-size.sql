-- Lead time by pull request size: do small pull requests reach production faster?
-- Pull requests whose merge commit reached production in the window. Size is lines added plus
-- deleted; lead time runs from the pull request's first commit (else its opening) to the
-- production deployment that shipped its merge commit. Needs the pull_requests table
-- (dora collect github, or pull_requests.csv).
WITH shipped AS (
    SELECT repo, sha, MIN(deployed_at) AS deployed_at
    FROM changes
    GROUP BY repo, sha
),
sized AS (
    SELECT
        p.repo,
        p.number,
        COALESCE(p.additions, 0) + COALESCE(p.deletions, 0) AS lines,
        (EXTRACT(EPOCH FROM s.deployed_at) - EXTRACT(EPOCH FROM COALESCE(p.first_commit_at, p.created_at))) / 3600.0 AS hours
    FROM pull_requests p
    JOIN shipped s ON s.repo = p.repo AND s.sha = p.merge_sha
),
bucketed AS (
    -- DORA 2025's survey buckets of lines per change.
    SELECT
        CASE WHEN lines <= 10 THEN 1 WHEN lines <= 50 THEN 2 WHEN lines <= 100 THEN 3
             WHEN lines <= 250 THEN 4 ELSE 5 END AS bucket,
        CASE WHEN lines <= 10 THEN '1-10 lines' WHEN lines <= 50 THEN '11-50 lines'
             WHEN lines <= 100 THEN '51-100 lines' WHEN lines <= 250 THEN '101-250 lines'
             ELSE 'more than 250 lines' END AS size,
        hours
    FROM sized
    WHERE hours >= 0
)
SELECT
    size,
    COUNT(*) AS pull_requests,
    ROUND(MEDIAN(hours), 2) AS median_lead_time_hours,
    ROUND(QUANTILE_CONT(hours, 0.9), 2) AS p90_lead_time_hours
FROM bucketed
GROUP BY size, bucket
ORDER BY bucket
