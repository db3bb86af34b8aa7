-- The roll-up (central/rollup.py) folds each site's day as the site folds its journal, and keeps:
-- every turn of the day, one row each as the site's CSV has it (the `bi` views read it), and the day's figures
-- per group, which the central's Informe adds up for any period and any sites without reading the turns.
ALTER TABLE site_days
    ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now(),   -- when a record of the day was last stored
    ADD COLUMN rolled_records integer NOT NULL DEFAULT 0,           -- the records the roll-up has folded
    ADD COLUMN rolled_at      timestamptz;
CREATE INDEX site_days_to_roll ON site_days (updated_at) WHERE rolled_records <> records;

ALTER TABLE sites ADD COLUMN target_min integer;    -- the site's wait target, from its shipper

CREATE TABLE turns (
    site              text NOT NULL,
    day               date NOT NULL,
    turn_id           text NOT NULL,
    number            text NOT NULL,
    service           text NOT NULL,
    service_name      text NOT NULL,
    preferential      boolean NOT NULL,
    category          text,
    kiosk             text,
    issued_at         timestamptz NOT NULL,
    called_at         timestamptz,
    closed_at         timestamptz,
    desk              smallint,
    advisor           text,
    wait_seconds      integer,
    service_seconds   integer,
    outcome           text NOT NULL,
    recalls           integer NOT NULL,
    rating            smallint,
    manual            boolean NOT NULL,
    PRIMARY KEY (site, day, turn_id)
);
CREATE INDEX turns_day ON turns (day, site);

-- One group of a site's day: facet 'site' (key ''), 'kind' ('no', 'sí'), 'service' (its letter), 'desk' (its
-- number), 'advisor' (the name). Waits are the sorted seconds of every call, as 32-bit little-endian integers,
-- kept for the groups whose p90 the Informe shows (site and service); the others keep sums only.
CREATE TABLE day_figures (
    site          text NOT NULL,
    day           date NOT NULL,
    facet         text NOT NULL,
    key           text NOT NULL,
    turns         integer NOT NULL,
    preferential  integer NOT NULL,
    attended      integer NOT NULL,
    no_show       integer NOT NULL,
    transferred   integer NOT NULL,
    unattended    integer NOT NULL,
    open_turns    integer NOT NULL,     -- still waiting or in service when rolled
    waits_n       integer NOT NULL,
    waits_sum     bigint NOT NULL,
    waits         bytea,
    attention_n   integer NOT NULL,
    attention_sum bigint NOT NULL,
    ratings       integer[] NOT NULL,   -- how many of each value, 1 to 5
    void          integer NOT NULL,     -- facet 'site' only: numbers voided because the ticket did not print
    manual        integer NOT NULL,
    PRIMARY KEY (site, day, facet, key)
);

-- For BI tools (Power BI, Metabase, a spreadsheet): the schema `bi`, readable by the role turnero_lectura
-- (docs/central.md), never the ingest's tables.
CREATE SCHEMA bi;
CREATE VIEW bi.turnos AS
    SELECT t.site AS sede, s.name AS nombre_sede, t.day AS dia, t.number AS turno, t.service AS servicio,
           t.service_name AS nombre_servicio, t.preferential AS preferencial, t.category AS categoria,
           t.issued_at AS tomado, t.called_at AS llamado, t.closed_at AS cerrado, t.desk AS modulo,
           t.advisor AS asesor, t.wait_seconds AS espera_segundos, t.service_seconds AS atencion_segundos,
           t.outcome AS resultado, t.recalls AS rellamados, t.rating AS calificacion, t.manual AS manual,
           t.turn_id AS id_turno
    FROM turns t JOIN sites s USING (site);
CREATE VIEW bi.sedes AS
    SELECT site AS sede, name AS nombre, target_min AS meta_espera_min, software AS version,
           last_record_at AS ultimo_registro, bridge_up AS puente_conectado, bridge_since AS puente_desde
    FROM sites;
