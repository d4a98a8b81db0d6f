// The status page: the full status from /api/events on connect, then changed jobs as they
// change. Rows are kept per job and updated in place, so nothing reloads and bars move smoothly.
// Text goes in through textContent only: names, reasons and titles come from the network.
"use strict";
(() => {
  // States, their signs and each job's detail come worded from the server (/api/status), so the
  // page, the terminal and the log say the same thing.
  let emoji = {};

  /** name → job view, in queue order. */
  const jobs = new Map();
  let counts = {};
  /** Server clock minus ours, so ages are right even when the two disagree. */
  let skew = 0;

  const $ = (selector) => document.querySelector(selector);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function age(iso) {
    if (!iso) return "";
    const s = Math.max(0, Math.floor((Date.now() + skew - Date.parse(iso)) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  }

  function setConnection(state, text) {
    const node = $("#connection");
    node.dataset.state = state;
    node.textContent = text;
  }

  function renderCounts() {
    const list = $("#counts");
    list.replaceChildren(
      ...Object.keys(counts).map((state) => {
        const item = el("li");
        item.dataset.state = state;
        item.dataset.count = String(counts[state] ?? 0);
        item.append(`${emoji[state] ?? ""} `, el("b", "", String(counts[state] ?? 0)), ` ${state}`);
        return item;
      }),
    );
  }

  function renderRun(run) {
    if (!run) return;
    $("#run").textContent = `${run.version} · ${run.source} → ${run.sink}`;
    document.title = `dispatch · ${run.source}`;
    const urls = $("#boot-urls");
    urls.replaceChildren(...(run.bootUrls.length ? run.bootUrls.map((url) => el("code", "", url)) : ["…"]));
  }

  /** The detail cell: a moving bar while downloading, a link once filed, else the worded detail. */
  function renderDetail(cell, job) {
    cell.replaceChildren();
    if (job.state === "downloading" && !job.downloaded) {
      const bytes = Math.min(job.bytes ?? 0, job.size);
      const wrap = el("div", "progress");
      const bar = el("progress");
      bar.max = Math.max(job.size, 1);
      bar.value = job.size === 0 ? 1 : bytes;
      const pct = job.size === 0 ? 100 : Math.floor((bytes / job.size) * 100);
      const fresh = job.seen && Date.now() + skew - Date.parse(job.seen) < 3000;
      const rate = job.text.rate !== null && fresh ? ` · ${job.text.rate}` : "";
      wrap.append(bar, el("span", "figures", `${pct}% · ${job.text.bytes ?? "0 B"} of ${job.text.size}${rate}`));
      cell.append(wrap);
    } else if (job.state === "finished" && /^https?:\/\//.test(job.issue?.url ?? "")) {
      const link = el("a", "", `#${job.issue.number}`);
      link.href = job.issue.url;
      link.rel = "noopener";
      cell.append(link, ` ${job.title ?? ""}`);
    } else if (job.state === "reported" && job.error) {
      cell.append(`filing “${job.title ?? ""}”`, el("div", "retry", job.detail));
    } else {
      cell.textContent = job.detail;
    }
  }

  function renderRow(job) {
    const tbody = $("#jobs tbody");
    let row = tbody.querySelector(`tr[data-name="${CSS.escape(job.name)}"]`);
    if (!row) {
      row = el("tr");
      row.dataset.name = job.name;
      row.append(el("td", "state"), el("td", "name"), el("td", "ip"), el("td", "seen"), el("td", "num size"), el("td", "detail"));
      tbody.append(row);
    }
    row.dataset.state = job.state;
    const [state, name, ip, seen, size, detail] = row.children;
    state.replaceChildren(el("span", "emoji", job.emoji), el("span", "state-name", job.state));
    state.title = job.state;
    name.textContent = job.name;
    // Where it may run, on demand: hover the name.
    name.title = job.servers ? `may run on: ${job.servers.join(", ") || "no server"}` : "may run on any server";
    ip.textContent = job.ip ?? "";
    seen.textContent = age(job.seen);
    size.textContent = job.text.size;
    renderDetail(detail, job);
  }

  function renderAll() {
    $("#jobs tbody").replaceChildren();
    for (const job of jobs.values()) renderRow(job);
    $("#empty").hidden = jobs.size > 0;
    renderCounts();
  }

  /** The lab's servers (`--lab`): power, where each is in the run, what is being done to it. */
  function renderServers(servers) {
    if (!servers) return;
    const section = $("#servers");
    section.hidden = servers.length === 0;
    section.querySelector("tbody").replaceChildren(
      ...servers.map((s) => {
        const row = el("tr");
        row.dataset.server = s.name;
        row.dataset.health = s.health;
        const state = s.health === "quarantined" ? `⛔ taken out: ${s.reason}` : s.pending ? `${s.stage}: ${s.pending.action} (${s.pending.reason})` : s.stage;
        const last = s.last ? `${s.last.action} ${s.last.ok ? "done" : `failed: ${s.last.error}`}` : "";
        // A server with a console: its name opens it live; the firmware's boot error and the last line beside.
        const name = el("td", "name");
        if (s.console || s.consoleError) {
          const open = el("button", "", s.name);
          open.type = "button";
          open.title = "show its console live";
          open.addEventListener("click", () => watchConsole(s.name));
          name.append(open);
        } else name.textContent = s.name;
        const console = el("td", "console detail");
        if (s.consoleError) console.append(el("div", "firmware", s.consoleError));
        if (s.console) console.append(el("div", "last", s.console.line));
        row.append(name, el("td", "", s.ip), el("td", "", s.power), el("td", "", state), el("td", "", s.job ?? ""), el("td", "", last), console);
        return row;
      }),
    );
  }

  /** Beacon calls answered 417, with the reducer's reason: none goes unseen. */
  function renderRefused(refused) {
    if (!refused) return;
    const section = $("#refused");
    section.hidden = refused.length === 0;
    section.querySelector("ol").replaceChildren(
      ...refused.map((r) => el("li", "", `${r.at.slice(11, 19)} ${r.call} from ${r.ip}: ${r.reason}`)),
    );
  }

  /** One server's console, live: the end of what is kept, then each line as it arrives. */
  let consoleSource;
  function watchConsole(name) {
    consoleSource?.close();
    const pane = $("#console");
    pane.hidden = false;
    pane.querySelector(".server").textContent = name;
    pane.querySelector("a.kept").href = `/api/servers/${encodeURIComponent(name)}/console`;
    const pre = pane.querySelector("pre");
    pre.textContent = "";
    consoleSource = new EventSource(`/api/servers/${encodeURIComponent(name)}/console/events`);
    consoleSource.addEventListener("lines", (event) => {
      const { lines, skipped } = JSON.parse(event.data);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      if (skipped) pre.append(`[… ${skipped} lines skipped: they came faster than this page reads …]\n`);
      pre.append(lines.map((line) => `${line}\n`).join(""));
      // Only what the last 2000 lines take: a workload that prints for ever must not fill the page.
      while (pre.childNodes.length > 200) pre.firstChild.remove();
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    });
  }

  function takeTime(now) {
    if (now) skew = Date.parse(now) - Date.now();
  }

  function connect() {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => setConnection("live", "live"));
    source.addEventListener("error", () => setConnection("reconnecting", "reconnecting…"));
    source.addEventListener("status", (event) => {
      const status = JSON.parse(event.data);
      takeTime(status.now);
      jobs.clear();
      for (const job of status.jobs) jobs.set(job.name, job);
      counts = status.counts;
      emoji = status.emoji;
      renderRun(status.run);
      renderRefused(status.refused);
      renderServers(status.servers);
      renderAll();
      setConnection("live", "live");
    });
    source.addEventListener("jobs", (event) => {
      const change = JSON.parse(event.data);
      takeTime(change.now);
      for (const job of change.jobs) {
        jobs.set(job.name, job);
        renderRow(job);
      }
      counts = change.counts;
      renderCounts();
      renderRefused(change.refused);
      renderServers(change.servers);
    });
  }

  // Ages move on between events, and a stalled download's speed goes stale.
  setInterval(() => {
    for (const job of jobs.values()) {
      const row = document.querySelector(`tr[data-name="${CSS.escape(job.name)}"]`);
      if (!row) continue;
      row.querySelector("td.seen").textContent = age(job.seen);
      if (job.state === "downloading") renderDetail(row.querySelector("td.detail"), job);
    }
  }, 1000);
  connect();
})();
