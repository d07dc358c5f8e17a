-- The durable job queue, the change feed (outbox) its consumers follow,
-- and the settings their positions are saved in.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    site         text NOT NULL,
    kind         text NOT NULL,
    priority     integer NOT NULL,
    args         jsonb NOT NULL,
    state        text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    run_at       bigint NOT NULL,
    created      bigint NOT NULL,
    started      bigint,
    finished     bigint,
    error        text,
    result       jsonb,
    dedupe       text,
    schedule     text,
    lease_until  bigint
);
CREATE INDEX jobs_due ON jobs (state, priority, run_at);
CREATE INDEX jobs_by_site ON jobs (site, state, priority);
CREATE INDEX jobs_finished ON jobs (finished) WHERE finished IS NOT NULL;
-- One waiting job per key: a burst of the same change queues one run.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (site, dedupe) WHERE dedupe IS NOT NULL AND state = 'queued';

CREATE TABLE job_schedules (
    site     text NOT NULL,
    name     text NOT NULL,
    cron     text NOT NULL,
    kind     text NOT NULL,
    args     jsonb NOT NULL,
    priority integer NOT NULL,
    next_run bigint NOT NULL,
    last_run bigint,
    PRIMARY KEY (site, name)
);

-- What changed, in commit order per site: consumers (indexer, purges)
-- follow it from their saved position.
CREATE TABLE outbox (
    seq  bigserial PRIMARY KEY,
    site text NOT NULL,
    kind text NOT NULL,
    uid  text NOT NULL,
    path text NOT NULL,
    at   text NOT NULL
);
CREATE INDEX outbox_by_site ON outbox (site, seq);

CREATE TABLE settings (
    site  text NOT NULL,
    key   text NOT NULL,
    value jsonb NOT NULL,
    PRIMARY KEY (site, key)
);
