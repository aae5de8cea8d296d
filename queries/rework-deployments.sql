-- Deployments that fixed rather than added (rework rate, DORA 2024), and why each counts.
-- A deployment is rework when its kind is hotfix or rollback or, without a kind, when it went
-- out while an incident of its repository was open.
SELECT
    deployed_at,
    repo,
    id,
    kind,
    rework_reason
FROM production_deployments
WHERE rework
ORDER BY deployed_at, id
