// gridwatch live page: renders the exporter's live metrics and follows /live/events.
// Every shown number is a <span data-metric data-labels data-value> holding the raw value of
// the /metrics sample it comes from, so what the page says can be checked against /metrics.
"use strict";

const settings = JSON.parse(document.getElementById("settings").textContent);
let data = settings.initial;

// -- helpers ---------------------------------------------------------------------------------
function samples(name, match) {
  return (data.metrics[name] || []).filter(([labels]) =>
    Object.entries(match || {}).every(([k, v]) => labels[k] === v));
}
function one(name, match) {
  const found = samples(name, match);
  return found.length ? found[0][1] : null;
}
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
function val(name, labels, value, text, cls) {
  const node = el("span", "v" + (cls ? " " + cls : ""), text);
  node.dataset.metric = name;
  node.dataset.labels = JSON.stringify(labels);
  node.dataset.value = String(value);
  return node;
}
function num(x, digits) {
  return x.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function watts(w) {
  return Math.abs(w) >= 1000 ? num(w / 1000, 2) + " kW" : num(w, 0) + " W";
}
function duration(s) {
  const m = Math.round(s / 60);
  return m >= 60 ? Math.floor(m / 60) + " h " + (m % 60) + " min" : m + " min";
}
function clock(ts) {
  // In the site's time zone, whatever the phone's: outage and price times are local times.
  return new Date(ts * 1000).toLocaleString(undefined, { timeZone: settings.timezone,
    weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}
function row(label, ...parts) {
  const r = el("div", "row");
  r.append(el("span", "", label));
  const right = el("span", "num");
  right.append(...parts);
  r.append(right);
  return r;
}
function none(text) { return el("div", "none", text); }
function fill(id, nodes) { document.getElementById(id).replaceChildren(...nodes); }
function groupBy(name, label) {
  const groups = new Map();
  for (const [labels, value] of samples(name)) {
    const key = labels[label];
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push([labels, value]);
  }
  return groups;
}

// -- sections --------------------------------------------------------------------------------
function grid() {
  const up = one("gridwatch_grid_up");
  if (up === null) return [none("No grid signal configured or known yet.")];
  const out = [val("gridwatch_grid_up", {}, up, up ? "Grid up" : "Grid down", "big " + (up ? "up" : "down"))];
  const since = one("gridwatch_grid_last_change_timestamp_seconds");
  if (since !== null) {
    const s = el("div", "sub", "since ");
    s.append(val("gridwatch_grid_last_change_timestamp_seconds", {}, since, clock(since)),
      " (" + duration(Math.max(0, data.now - since)) + ")");
    out.push(s);
  }
  for (const [labels, v] of samples("gridwatch_inverter_mains_voltage_volts"))
    out.push(row("Mains at " + labels.inverter, val("gridwatch_inverter_mains_voltage_volts", labels, v, num(v, 1) + " V")));
  return out;
}

function phases() {
  const out = [];
  const near = one("gridwatch_alert_phase_near_fuse_ratio") ?? 0.9;
  for (const [meter, currents] of groupBy("gridwatch_p1_phase_current_amperes", "meter")) {
    const fuse = one("gridwatch_p1_fuse_amperes", { meter });
    const head = el("div", "row");
    head.append(el("b", "", meter));
    const power = one("gridwatch_p1_power_watts", { meter });
    if (power !== null) head.append(val("gridwatch_p1_power_watts", { meter }, power, watts(power), "big"));
    out.push(head);
    for (const [labels, amps] of currents.sort((a, b) => a[0].phase.localeCompare(b[0].phase))) {
      const line = el("div", "phase");
      line.append(el("span", "", labels.phase.toUpperCase()));
      const bar = el("div", "bar");
      const f = el("div", "fill");
      if (fuse) {
        const ratio = Math.abs(amps) / fuse;
        f.style.width = Math.min(100, ratio * 100).toFixed(1) + "%";
        f.classList.add(ratio >= 1 ? "crit" : ratio >= near ? "warn" : "ok");
      }
      bar.append(f);
      line.append(bar, val("gridwatch_p1_phase_current_amperes", labels, amps, num(amps, 1) + " A", "num"));
      out.push(line);
    }
    if (fuse !== null) out.push(row("Main fuse", val("gridwatch_p1_fuse_amperes", { meter }, fuse, num(fuse, 0) + " A")));
    const imb = one("gridwatch_p1_phase_imbalance_amperes", { meter });
    if (imb !== null) {
      const warn = one("gridwatch_p1_phase_imbalance_warning_amperes", { meter }) ?? 5;
      const crit = one("gridwatch_p1_phase_imbalance_critical_amperes", { meter }) ?? 10;
      const level = imb >= crit ? "crit" : imb >= warn ? "warn" : "ok";
      out.push(row("Imbalance", val("gridwatch_p1_phase_imbalance_amperes", { meter }, imb, num(imb, 1) + " A", level)));
    }
  }
  return out.length ? out : [none("No P1 meter.")];
}

function price() {
  const out = [];
  // The real price when a tariff is configured, else the spot price alone.
  const kind = samples("gridwatch_price_total_per_kwh").length ? "total" : "spot";
  for (const [labels, total] of samples("gridwatch_price_" + kind + "_per_kwh")) {
    const unit = " " + labels.currency + "/kWh";
    out.push(val("gridwatch_price_" + kind + "_per_kwh", labels, total, num(total, 2) + unit, "big"));
    const spot = one("gridwatch_price_spot_per_kwh", { area: labels.area });
    const sub = el("div", "sub", labels.area + " now");
    if (spot !== null && kind === "total") sub.append(", spot ", val("gridwatch_price_spot_per_kwh", { area: labels.area, currency: labels.currency }, spot, num(spot, 2)));
    out.push(sub);
    const starts = samples("gridwatch_price_slot_start_timestamp_seconds", { area: labels.area })
      .filter(([, start]) => start + 900 > data.now).sort((a, b) => a[1] - b[1]).slice(0, 8);
    const slots = el("div", "slots");
    for (const [slot] of starts) {
      const match = { area: labels.area, day: slot.day, slot: slot.slot };
      const found = samples("gridwatch_price_slot_" + kind + "_per_kwh", match);
      if (!found.length) continue;
      const [slotLabels, value] = found[0];
      const box = el("div", "slot", slot.slot);
      const b = val("gridwatch_price_slot_" + kind + "_per_kwh", slotLabels, value, num(value, 2));
      box.append(el("br"), b);
      slots.append(box);
    }
    out.push(slots);
  }
  return out.length ? out : [none("No prices configured.")];
}

function cost() {
  const out = [];
  // The real price when a tariff is configured, else the spot price alone.
  const hasTotal = samples("gridwatch_energy_period_cost", { price: "total" }).length > 0;
  const price = hasTotal ? "total" : "spot";
  for (const [labels, v] of samples("gridwatch_energy_period_cost", { period: "day", price })) {
    const what = (labels.direction === "export" ? "Earned (export)" : "Cost (import)") +
      (price === "spot" ? " at spot" : "");
    out.push(row(what + ", " + labels.meter, val("gridwatch_energy_period_cost", labels, v, num(v, 2) + " " + labels.currency)));
  }
  return out.length ? out : [none("No cost accounting (needs a P1 meter and prices).")];
}

function inverter() {
  const out = [];
  for (const [labels, on] of samples("gridwatch_inverter_operating_mode")) {
    if (on !== 1) continue;
    out.push(row("Mode, " + labels.inverter, val("gridwatch_inverter_operating_mode", labels, on, labels.mode.replace(/_/g, " "), "big")));
  }
  const metrics = [["gridwatch_inverter_battery_soc_ratio", "Battery", (v) => num(v * 100, 0) + " %"],
    ["gridwatch_inverter_output_power_watts", "Output", watts],
    ["gridwatch_inverter_pv_total_power_watts", "Solar", watts]];
  for (const [name, label, format] of metrics)
    for (const [labels, v] of samples(name))
      out.push(row(label + ", " + labels.inverter, val(name, labels, v, format(v),
        name.endsWith("soc_ratio") ? (v < 0.2 ? "crit" : v < 0.4 ? "warn" : "ok") : "")));
  for (const [labels, v] of samples("gridwatch_battery_soc_ratio"))
    out.push(row("Pack " + labels.battery, val("gridwatch_battery_soc_ratio", labels, v, num(v * 100, 0) + " %")));
  for (const [labels, runtime] of samples("gridwatch_outage_battery_runtime_seconds")) {
    const needed = one("gridwatch_outage_energy_needed_joules", { queue: labels.queue });
    const have = one("gridwatch_outage_battery_energy_joules", { queue: labels.queue });
    const enough = needed === null || have === null ? null : have >= needed;
    out.push(row("Runtime at this load", val("gridwatch_outage_battery_runtime_seconds", labels, runtime, duration(runtime),
      enough === null ? "" : enough ? "ok" : "crit")));
    if (needed !== null && have !== null) {
      const r = row("Next outage needs");
      r.lastChild.append(val("gridwatch_outage_energy_needed_joules", labels, needed, num(needed / 3.6e6, 1) + " kWh"),
        " of ", val("gridwatch_outage_battery_energy_joules", labels, have, num(have / 3.6e6, 1) + " kWh"));
      out.push(r);
    }
  }
  return out.length ? out : [none("No inverter or battery.")];
}

function outage() {
  const out = [];
  for (const [labels, start] of samples("gridwatch_outage_schedule_next_outage_start_timestamp_seconds")) {
    const end = one("gridwatch_outage_schedule_next_outage_end_timestamp_seconds", { queue: labels.queue });
    const active = one("gridwatch_outage_schedule_outage_active", { queue: labels.queue }) === 1;
    const when = el("div", "big" + (active ? " crit" : ""));
    when.append(val("gridwatch_outage_schedule_next_outage_start_timestamp_seconds", labels, start, clock(start)));
    if (end !== null) when.append(" – ", val("gridwatch_outage_schedule_next_outage_end_timestamp_seconds", labels, end, clock(end)));
    out.push(when);
    const ahead = start - data.now;
    out.push(el("div", "sub", "queue " + labels.queue + (active ? ": now" : ahead > 0 ? ": in " + duration(ahead) : "")));
  }
  return out.length ? out : [none("No planned outage known.")];
}

// -- page ------------------------------------------------------------------------------------
function render() {
  fill("grid-body", grid());
  fill("phases-body", phases());
  fill("price-body", price());
  fill("cost-body", cost());
  fill("inverter-body", inverter());
  fill("outage-body", outage());
  document.body.dataset.now = String(data.now);
}

function setTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function connect() {
  const conn = document.getElementById("conn");
  const source = new EventSource("/live/events");  // reconnects by itself after a drop
  source.onmessage = (event) => {
    data = JSON.parse(event.data);
    conn.dataset.state = "live";
    conn.textContent = "live";
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    render();
  };
  source.onerror = () => { conn.dataset.state = "lost"; conn.textContent = "reconnecting…"; };
}

const grafana = document.getElementById("grafana");
grafana.href = settings.grafana || location.protocol + "//" + location.hostname + ":3000/dashboards";
let stored = null;
try { stored = localStorage.getItem("gridwatch-theme"); } catch (e) { /* private mode */ }
setTheme(stored);
document.getElementById("theme").addEventListener("click", () => {
  const dark = getComputedStyle(document.documentElement).getPropertyValue("--bg").trim() === "#111418";
  const next = dark ? "light" : "dark";
  setTheme(next);
  try { localStorage.setItem("gridwatch-theme", next); } catch (e) { /* private mode */ }
});
render();
connect();
