-- The changes that took longest from commit to production in the window, with who wrote them.
-- @param limit int = 20 -- how many changes to list
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    ROUND(ch.lead_time_hours, 2) AS lead_time_hours,
    ch.repo,
    ch.sha,
    ch.committed_at,
    ch.deployed_at,
    ch.deployment_id,
    c.author,
    c.message
FROM changes ch
LEFT JOIN commits c ON c.repo = ch.repo AND c.sha = ch.sha
WHERE ch.counted AND ch.repo LIKE $repo
ORDER BY ch.lead_time_hours DESC, ch.sha
LIMIT $limit
