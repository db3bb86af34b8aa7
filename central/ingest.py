"""`turnero central`: every site's record, from the central's broker into PostgreSQL, once.

One loop, like the hub's: it drains what arrived, decides on every message, writes all of it in one transaction,
and only after the commit acknowledges the messages to the broker (a persistent session, manual ack) and tells
each site how far it is stored (retained, contract.shipping.CentralAck). Killed at any instant, it loses nothing
acknowledged and stores nothing twice: the broker delivers again what was not acknowledged, a batch that does not
continue what a day has is not stored, and a record is stored once by (site, id).

A site is hostile input: a message that fails the decode is refused, a record that fails its check is refused on
its own, a record id reused with other content is refused; each is logged once in a bounded line, kept in the
`refusals` table, counted for the site, and the ingest goes on.
"""
from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass, field
from datetime import datetime

import paho.mqtt.client as mqtt
import psycopg
from psycopg.types.json import Jsonb

from appliance import contract
from appliance.contract import records as record_rules
from appliance.contract import shipping
from appliance.core.link import Connected, Link
from appliance.core.steps import arrived
from central import rollup
from central.config import DEVICE, CentralConfig
from central.database import DatabaseError, connect, migrate

log = logging.getLogger(__name__)
BATCH = 200                 # messages per transaction
RECONNECT_S = 2.0
ROLL_CHECK_S = 1.0         # how often the ingest looks for site-days to roll up (central/rollup.py)
ACK_DAYS = 40               # besides the days a commit stored, an acknowledgement names the site's newest days
_COLUMNS = ("site", "id", "day", "pos", "kind", "at", "turn_id", "service", "desk", "record")


@dataclass
class _Commit:
    """What one transaction will write, and what follows from it once committed."""

    rows: list[tuple] = field(default_factory=list)
    refusals: list[tuple] = field(default_factory=list)   # (site, day, pos, reason, content)
    stored_to: dict[tuple[str, str], int] = field(default_factory=dict)   # (site, day) -> byte stored up to
    stored: dict[tuple[str, str], int] = field(default_factory=dict)      # (site, day) -> records inserted
    gaps: dict[str, set[str]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, shipping.SiteStatus] = field(default_factory=dict)
    bridges: dict[str, bool] = field(default_factory=dict)

    def sites(self) -> set[str]:
        return {site for site, _ in self.stored_to} | set(self.gaps) | set(self.duplicates)


class Central:
    device = DEVICE

    def __init__(self, config: CentralConfig, *, pace: rollup.Pace = rollup.Pace()):
        self.config, self.pace = config, pace
        migrate(config.dsn)
        self.db = self._connect()
        self._held: list = []       # what arrived while the database was away, taken again
        self._stored_to: dict[tuple[str, str], int] = {}
        self._rolled = 0.0
        self.refused = contract.Refusals()
        self.inbox: queue.Queue = queue.Queue()
        topics = tuple(shipping.central_topic("+", leaf) for leaf in (shipping.RECORDS, shipping.SITE,
                                                                     shipping.BRIDGE))
        self.link = Link(self.device, config.broker, self.inbox, subscriptions=topics, persistent_session=True,
                         manual_ack=True)

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.db.close()

    def healthy(self) -> bool:
        return not self.link.flapping

    # --- the loop ------------------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        db = connect(self.config.dsn)
        db.execute("CREATE TEMP TABLE incoming (LIKE records INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        db.commit()
        return db

    def step(self, timeout: float = 0.5) -> int:
        if self.db.closed:
            try:
                self.db = self._connect()
            except DatabaseError as exc:
                log.error("%s; %d message(s) wait, unacknowledged", exc, len(self._held))
                time.sleep(RECONNECT_S)
                return 0
        items, self._held = self._held or arrived(self.inbox, timeout, BATCH), []
        try:
            stored = self._step(items)
            if time.monotonic() - self._rolled >= ROLL_CHECK_S:    # between batches, a few site-days at a time
                rollup.roll_due(self.db, datetime.now(self.config.timezone).date(), self.pace)
                self._rolled = time.monotonic()
            return stored
        except psycopg.OperationalError as exc:   # PostgreSQL restarted: the batch waits for it, unacknowledged
            log.error("the database went away (%s); the batch is taken again", str(exc).strip()[:200])
            self.db.close()
            self._stored_to.clear()
            self._held = items
            return 0

    def _step(self, items: list, *, refusal: Exception | None = None) -> int:
        """Decides on every message, writes it all in one transaction, then acknowledges and tells the sites. A
        batch PostgreSQL will not take (a value no check foresaw) is taken again one message at a time, and the
        message it will not take alone is refused: no message can stop the ingest or come back forever."""
        commit, everyone = _Commit(), False
        for item in items:
            if isinstance(item, Connected):
                everyone = True        # a broker restored from an older save holds old acknowledgements
            elif isinstance(item, mqtt.MQTTMessage):
                try:
                    if refusal is not None:
                        raise refusal
                    self._take(item, commit)
                except psycopg.OperationalError:
                    raise
                except Exception as exc:   # a fault of ours, or input no check foresaw: that message only
                    self._refuse(commit, _site_of(item.topic), None, None, exc, item.payload)
        try:
            self._write(commit)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            self.db.rollback()
            self._stored_to.clear()        # read again from what is committed
            messages = [item for item in items if isinstance(item, mqtt.MQTTMessage)]
            if len(messages) > 1:
                return sum(self._step([item]) for item in messages)
            return self._step(messages, refusal=contract.ContractError(
                f"the database would not store it ({type(exc).__name__}: {contract.shown(str(exc), 120)})"))
        for item in items:
            if isinstance(item, mqtt.MQTTMessage) and item.qos > 0:
                self.link.ack(item.mid, item.qos)
        for site in self._known_sites() if everyone else sorted(commit.sites()):
            self._acknowledge(site, commit.gaps.get(site, set()), commit)
        return len(items)

    def _take(self, message: mqtt.MQTTMessage, commit: _Commit) -> None:
        site, leaf = shipping.parse_central_topic(message.topic)
        if leaf == shipping.BRIDGE:
            commit.bridges[site] = message.payload == b"1"
            return
        if leaf == shipping.SITE:
            status = contract.expect(message.payload, shipping.SiteStatus)
            _same_site(status.site, site)
            commit.statuses[site] = status
            return
        if message.retain:
            raise contract.ContractError("a retained batch; records are never retained")
        batch = contract.expect(message.payload, shipping.RecordBatch)
        _same_site(batch.site, site)
        self._batch(batch, commit)

    def _batch(self, batch: shipping.RecordBatch, commit: _Commit) -> None:
        key = (batch.site, batch.day)
        stored_to = self._stored(key, commit)
        if batch.start > stored_to:     # a batch before this one was lost on the way: the site sends it again
            commit.gaps.setdefault(batch.site, set()).add(batch.day)
            return
        if batch.end <= stored_to:      # a copy (the bridge's resend, or the site's after a timeout)
            commit.duplicates[batch.site] = commit.duplicates.get(batch.site, 0) + 1
            commit.stored_to.setdefault(key, stored_to)
            return
        for position, record in zip(batch.positions, batch.records):
            if position < stored_to:
                continue
            try:
                record_rules.check_record(record)
                if record["day"] != batch.day:
                    raise contract.ContractError(f"a record of {record['day']} in a batch of {batch.day}")
            except contract.ContractError as exc:
                self._refuse(commit, batch.site, batch.day, position, exc, record)
                continue
            commit.rows.append((batch.site, record["id"], record["day"], position, record["kind"], record["at"],
                                record.get("turn_id"), record.get("service"), record.get("desk"), Jsonb(record)))
        commit.stored_to[key] = batch.end

    def _stored(self, key: tuple[str, str], commit: _Commit) -> int:
        if key in commit.stored_to:
            return commit.stored_to[key]
        if key not in self._stored_to:
            row = self.db.execute("SELECT stored_to FROM site_days WHERE site = %s AND day = %s", key).fetchone()
            self._stored_to[key] = row[0] if row else 0
        return self._stored_to[key]

    def _refuse(self, commit: _Commit, site: str | None, day: str | None, position: int | None, error: Exception,
                content) -> None:
        self.refused.note(self.device, f"{site or '?'} {day or ''} {position if position is not None else ''}",
                          error)
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else repr(content)
        # Escaped: what a site sends may hold NUL, which a PostgreSQL text cannot.
        commit.refusals.append((site, day, position, contract.loggable(str(error), 500),
                                contract.loggable(text, 2000)))

    # --- the transaction -----------------------------------------------------------------------------

    def _write(self, commit: _Commit) -> None:
        db, now = self.db, datetime.now().astimezone()
        for site in commit.sites() | set(commit.statuses) | set(commit.bridges) | \
                {r[0] for r in commit.refusals if r[0]}:
            db.execute("INSERT INTO sites (site) VALUES (%s) ON CONFLICT DO NOTHING", (site,))
        if commit.rows:
            with db.cursor().copy(f"COPY incoming ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in commit.rows:
                    copy.write_row(row)
            for site, day, count in db.execute(
                    f"WITH stored AS (INSERT INTO records ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM "
                    "incoming ON CONFLICT DO NOTHING RETURNING site, day) SELECT site, day, count(*) FROM stored "
                    "GROUP BY site, day"):
                commit.stored[(site, day.isoformat())] = count
            # An id the site already used for another record: refused, not stored over the first.
            for site, day, pos, record_id, content in db.execute(
                    "SELECT i.site, i.day, i.pos, i.id, i.record::text FROM incoming i JOIN records r "
                    "ON r.site = i.site AND r.id = i.id WHERE (r.day, r.pos) <> (i.day, i.pos) "
                    "AND r.record <> i.record"):
                self._refuse(commit, site, day.isoformat(), pos,
                             contract.ContractError(f"record id {record_id} is already stored with other content"),
                             content)
        if commit.refusals:
            db.cursor().executemany("INSERT INTO refusals (site, day, pos, reason, content) VALUES (%s, %s, %s, %s, "
                                    "%s)", commit.refusals)
        for (site, day), end in commit.stored_to.items():
            db.execute("INSERT INTO site_days (site, day, stored_to, records) VALUES (%s, %s, %s, %s) "
                       "ON CONFLICT (site, day) DO UPDATE SET stored_to = EXCLUDED.stored_to, "
                       "records = site_days.records + EXCLUDED.records, updated_at = now()",
                       (site, day, end, commit.stored.get((site, day), 0)))
        self._count(commit, now)
        db.commit()
        self._stored_to.update(commit.stored_to)

    def _count(self, commit: _Commit, now: datetime) -> None:
        db = self.db
        stored: dict[str, int] = {}
        for (site, _day), count in commit.stored.items():
            stored[site] = stored.get(site, 0) + count
        refused: dict[str, int] = {}
        for site, *_ in commit.refusals:
            if site:
                refused[site] = refused.get(site, 0) + 1
        for site in set(stored) | set(refused) | set(commit.gaps) | set(commit.duplicates):
            db.execute("UPDATE sites SET records = records + %s, refused = refused + %s, gaps = gaps + %s, "
                       "duplicates = duplicates + %s, last_batch_at = %s, last_record_at = GREATEST(last_record_at, "
                       "(SELECT max(at) FROM incoming WHERE site = %s)) WHERE site = %s",
                       (stored.get(site, 0), refused.get(site, 0), len(commit.gaps.get(site, ())),
                        commit.duplicates.get(site, 0), now, site, site))
        for site, status in commit.statuses.items():
            db.execute("UPDATE sites SET name = %s, services = %s, software = %s, site_file = %s, pending = %s, "
                       "oldest_pending_at = %s, status_at = %s, target_min = coalesce(%s, target_min) WHERE site = %s",
                       (status.name, Jsonb(status.services), status.software, status.site_file, status.pending,
                        status.oldest_pending_at, status.at, status.target_min, site))
        for site, up in commit.bridges.items():
            db.execute("UPDATE sites SET bridge_since = CASE WHEN bridge_up IS DISTINCT FROM %s THEN %s ELSE "
                       "bridge_since END, bridge_up = %s WHERE site = %s", (up, now, up, site))

    # --- what each site is told ----------------------------------------------------------------------

    def _known_sites(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT site FROM sites ORDER BY site")]

    def _acknowledge(self, site: str, gaps: set[str], commit: _Commit) -> None:
        days = {day.isoformat(): end for day, end in self.db.execute(
            "SELECT day, stored_to FROM site_days WHERE site = %s ORDER BY day DESC LIMIT %s", (site, ACK_DAYS))}
        for (named, day), end in commit.stored_to.items():
            if named == site:
                days[day] = end
        for day in gaps:
            days.setdefault(day, self._stored((site, day), commit))
        self.db.commit()    # the reads above end their transaction: the next batch starts afresh
        ack = shipping.CentralAck(id=contract.new_id(), at=datetime.now().astimezone().isoformat(
            timespec="milliseconds"), source=self.device, site=site, days=days, gaps=sorted(gaps))
        self.link.publish(shipping.central_topic(site, shipping.ACK), ack.to_json(), qos=1, retain=True)


def _same_site(named: str, site: str) -> None:
    if named != site:
        raise contract.ContractError(f"a message of site {named!r} under site {site!r}'s topics")


def _site_of(topic: str) -> str | None:
    try:
        return shipping.parse_central_topic(topic)[0]
    except contract.ContractError:
        return None
