-- Asset inventory: a covering index for the dashboard counts (asset.Stats groups every
-- asset in a scope by organisation, kind, zone, lifecycle and MLPS level in one pass) and
-- for list filters on kind and zone within an organisation.
CREATE INDEX assets_stats ON assets (org_id, kind, zone, lifecycle, mlps_level);
