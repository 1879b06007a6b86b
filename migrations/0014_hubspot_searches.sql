-- After a create whose answer was lost, the HubSpot writer looks for the
-- object a few times over about a minute (HubSpot's search index lags its
-- writes) before it sends the create again: it counts those searches.
ALTER TABLE hubspot_writes ADD COLUMN searches integer NOT NULL DEFAULT 0;
