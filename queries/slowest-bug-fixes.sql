-- The bugs delivered in the window that users waited longest for, from their report to the fix in production.
-- @param limit int = 20 -- how many bugs to list
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    ROUND(lead_time_hours, 2) AS lead_time_hours,
    ROUND(awaiting_deployment_hours, 2) AS awaiting_deployment_hours,
    id,
    repo,
    title,
    created_at,
    last_commit_at,
    delivered_at,
    deployment_id,
    url
FROM issue_deliveries
WHERE kind = 'bug' AND counted AND repo LIKE $repo
ORDER BY lead_time_hours DESC, id
LIMIT $limit
