// The live view: asks the hub for /api/en-vivo every few seconds and redraws the tables.
// Every value goes in through textContent, never as markup.
"use strict";

const EVERY_MS = 3000;

function cell(value, tag) {
  const td = document.createElement("td");
  if (value && typeof value === "object") {
    const span = document.createElement("span");
    span.className = "tag " + value.tone;
    span.textContent = value.text;
    td.appendChild(span);
  } else {
    td.textContent = value === null || value === undefined ? "—" : String(value);
  }
  if (tag) td.className = tag;
  return td;
}

function fill(id, rows, empty) {
  const body = document.getElementById(id);
  body.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(empty);
    td.colSpan = body.closest("table").querySelectorAll("thead th").length;
    td.className = "muted";
    tr.appendChild(td);
    body.appendChild(tr);
    return;
  }
  // Each cell carries its column's name: on a phone the row is a card that shows it beside the value.
  const labels = [...body.closest("table").querySelectorAll("thead th")].map(th => th.textContent);
  for (const [key, values] of rows) {
    const tr = document.createElement("tr");
    tr.dataset.key = key;
    values.forEach((value, i) => {
      const td = cell(value, i === 0 ? "first" : "");
      td.dataset.label = labels[i] || "";
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
}

function minutes(value) {
  return value === null ? null : value + " min";
}

function draw(view) {
  document.getElementById("sin-conexion").hidden = view.connected;
  document.getElementById("actualizado").textContent = view.updated;

  const alarms = document.getElementById("alarmas");
  alarms.className = "alarms " + (view.alarms.length ? "some" : "none");
  alarms.replaceChildren();
  const title = document.createElement("strong");
  title.textContent = view.alarms.length
    ? (view.alarms.length === 1 ? "1 alarma" : view.alarms.length + " alarmas")
    : "Sin alarmas: las esperas están dentro de la meta de " + view.target_min + " min y los equipos responden.";
  alarms.appendChild(title);
  if (view.alarms.length) {
    const list = document.createElement("ul");
    for (const alarm of view.alarms) {
      const item = document.createElement("li");
      item.textContent = alarm.text;
      list.appendChild(item);
    }
    alarms.appendChild(list);
  }

  fill("filas", view.queues.map(q => [q.service, [
    q.name, q.normal, q.preferential,
    q.longest_min === null ? "—" : { text: q.longest_min + " min", tone: q.over ? "bad" : "ok" },
    q.pace === null ? "—" : "cada " + q.pace + " min",
  ]]), "El hub aún no ha publicado las filas de espera.");

  const deskStates = { open: ["Abierto", "ok"], paused: ["En pausa", "warn"], closed: ["Cerrado", "bad"] };
  fill("modulos", view.desks.map(d => [d.desk, [
    d.name, d.status ? { text: deskStates[d.status][0], tone: deskStates[d.status][1] } : "—", d.advisor || "—",
    d.number ? { text: d.number, tone: d.preferential ? "pref" : "ok" } : "Libre",
    d.service || "—",
    d.number ? { text: minutes(d.minutes) + (d.overdue ? ", excede el límite" : ""), tone: d.overdue ? "bad" : "ok" }
      : "—",
  ]]), "No hay módulos configurados.");

  const states = { online: ["En línea", "ok"], offline: ["Sin conexión", "bad"], unknown: ["Sin reporte", "warn"] };
  // A kiosk whose credential sent tickets its buttons cannot give (hub/pace.py) says so on its own line.
  const refused = d => d.refused === 1 ? ", 1 tiquete rechazado hoy" : `, ${d.refused} tiquetes rechazados hoy`;
  fill("equipos", view.devices.map(d => [d.id, [
    d.id, d.role,
    { text: states[d.state][0] + (d.refused ? refused(d) : ""), tone: d.refused ? "bad" : states[d.state][1] },
    d.printer ? { text: d.printer, tone: d.printer_tone } : "—",
  ]]), "No hay equipos configurados.");

  fill("llamados", view.calls.map(c => [c.id, [
    c.number, c.desk, c.service, c.at + (c.recall ? " (repetido)" : ""),
  ]]), "Todavía no hay llamados hoy.");
}

async function refresh() {
  try {
    const answer = await fetch("/api/en-vivo", { cache: "no-store", credentials: "same-origin" });
    if (answer.status === 401) {
      window.location.assign("/ingresar");
      return;
    }
    if (!answer.ok) throw new Error(String(answer.status));
    draw(await answer.json());
    document.getElementById("sin-respuesta").hidden = true;
  } catch (error) {
    document.getElementById("sin-respuesta").hidden = false;
  }
}

refresh();
setInterval(refresh, EVERY_MS);
