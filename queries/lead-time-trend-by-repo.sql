-- Which repositories got slower? Median lead time in the last days of the window against before.
-- A positive change_pct means changes now take longer to reach production.
-- @param recent_days int = 28 -- length of the recent part, ending at the window's end
-- @param min_changes int = 5 -- leave out repositories with fewer changes in either part
WITH split AS (
    SELECT
        repo,
        lead_time_hours,
        EXTRACT(EPOCH FROM $until) - EXTRACT(EPOCH FROM deployed_at) < $recent_days * 86400 AS recent
    FROM changes
    WHERE counted
),
halves AS (
    SELECT
        repo,
        MEDIAN(CASE WHEN NOT recent THEN lead_time_hours END) AS before_hours,
        MEDIAN(CASE WHEN recent THEN lead_time_hours END) AS recent_hours,
        SUM(CASE WHEN NOT recent THEN 1 ELSE 0 END) AS before_changes,
        SUM(CASE WHEN recent THEN 1 ELSE 0 END) AS recent_changes
    FROM split
    GROUP BY repo
)
SELECT
    repo,
    ROUND(before_hours, 2) AS before_median_hours,
    ROUND(recent_hours, 2) AS recent_median_hours,
    ROUND(100.0 * (recent_hours - before_hours) / before_hours, 1) AS change_pct,
    before_changes,
    recent_changes
FROM halves
WHERE before_changes >= $min_changes AND recent_changes >= $min_changes AND before_hours > 0
ORDER BY change_pct DESC, repo
