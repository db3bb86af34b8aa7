-- The sites, and how far each day of each site is stored.
CREATE TABLE sites (
    site              text PRIMARY KEY,
    name              text,
    services          jsonb NOT NULL DEFAULT '{}',
    software          text,
    site_file         text,
    pending           bigint,
    oldest_pending_at timestamptz,
    status_at         timestamptz,
    bridge_up         boolean,
    bridge_since      timestamptz,
    last_batch_at     timestamptz,
    last_record_at    timestamptz,
    records           bigint NOT NULL DEFAULT 0,
    gaps              bigint NOT NULL DEFAULT 0,
    duplicates        bigint NOT NULL DEFAULT 0,
    refused           bigint NOT NULL DEFAULT 0
);

CREATE TABLE site_days (
    site      text NOT NULL REFERENCES sites,
    day       date NOT NULL,
    stored_to bigint NOT NULL,     -- every line of the day's journal before this byte is stored (or refused)
    records   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day)
);

-- Every record of every site, whole, with the columns reports select and sort by.
CREATE TABLE records (
    site        text NOT NULL,
    id          text NOT NULL,
    day         date NOT NULL,
    pos         bigint NOT NULL,   -- where its line starts in the day's journal: the order the hub wrote
    kind        text NOT NULL,
    at          timestamptz NOT NULL,
    turn_id     text,
    service     text,
    desk        smallint,
    record      jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, id),
    UNIQUE (site, day, pos)
);
CREATE INDEX records_day ON records (day, site);

-- What a site sent that the central would not store, and why.
CREATE TABLE refusals (
    site    text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    day     date,
    pos     bigint,
    reason  text NOT NULL,
    content text
);
CREATE INDEX refusals_site ON refusals (site, at);
