-- The bugs still open at the window's end, oldest first, and whether any commit is linked to them yet.
-- @param limit int = 20 -- how many bugs to list
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    ROUND(age_hours / 24.0, 1) AS age_days,
    id,
    repo,
    title,
    created_at,
    linked,
    url
FROM open_issues
WHERE kind = 'bug' AND repo LIKE $repo
ORDER BY age_hours DESC, id
LIMIT $limit
