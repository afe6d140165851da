/* pygestor's web UI: what htmx does not do by itself.
 *
 * - every fetch() sends X-Pygestor: 1 (the server refuses state-changing requests without it);
 * - errors (JSON {"error": ...} from the API) become a message in the page's error area;
 * - the jobs strip (every page) and the jobs table (/jobs), live from /api/jobs/events;
 * - the dataset page: sync, the manifest edit form, forget, fetch what changed;
 * - the subset page: the partition selection, download, remove (plan first), snippets + copy;
 * - the add page: propose, live validation (debounced), save and sync.
 * No inline scripts or handlers anywhere (the CSP forbids them): everything is wired here by
 * data-action attributes and ids.
 */
(function () {
  "use strict";

  const HEADERS = { "X-Pygestor": "1", Accept: "application/json" };
  const ACTIVE = new Set(["queued", "running", "cancelling"]);
  const FLASH_KEY = "pygestor-flash";

  // ---- small helpers -------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function humanBytes(n) {
    if (n === null || n === undefined) return "-";
    let size = Number(n);
    for (const unit of ["B", "kB", "MB", "GB", "TB"]) {
      if (size < 1000 || unit === "TB") {
        return unit === "B" ? `${Math.trunc(size)} B` : `${size.toFixed(1)} ${unit}`;
      }
      size /= 1000;
    }
    return "-";
  }

  function plural(n, word) {
    return `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
  }

  async function api(method, url, body) {
    const options = { method, headers: { ...HEADERS } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new ApiError("the pygestor server cannot be reached (is 'pygestor ui' still running?)", 0, null);
    }
    let data = null;
    if (response.status !== 204) {
      const text = await response.text();
      try {
        data = text ? JSON.parse(text) : null;
      } catch (err) {
        data = { error: text.trim() || response.statusText };
      }
    }
    if (!response.ok) {
      const message = (data && data.error) || `${response.status} ${response.statusText}`;
      throw new ApiError(message, response.status, data);
    }
    return data;
  }

  class ApiError extends Error {
    constructor(message, status, data) {
      super(message);
      this.status = status;
      this.data = data;
    }
  }

  function showError(message) {
    const box = document.getElementById("errors");
    if (!box) return;
    box.replaceChildren(el("div", { class: "error", role: "alert" }, message));
  }

  function clearErrors() {
    const box = document.getElementById("errors");
    if (box) box.replaceChildren();
  }

  function flash(message) {
    sessionStorage.setItem(FLASH_KEY, message);
  }

  function showFlash() {
    const message = sessionStorage.getItem(FLASH_KEY);
    if (!message) return;
    sessionStorage.removeItem(FLASH_KEY);
    const main = document.querySelector("main");
    if (main) main.prepend(el("div", { class: "flash", role: "status" }, message));
  }

  /** Run `work` for a click on `button`: the button is disabled meanwhile, errors are shown. */
  async function guarded(button, work) {
    clearErrors();
    if (button) button.disabled = true;
    try {
      await work();
    } catch (err) {
      showError(err.message || String(err));
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  }

  function problemsList(list, problems) {
    list.replaceChildren();
    for (const p of problems || []) {
      const text = typeof p === "string" ? p : problemText(p);
      list.append(el("li", { class: "problem" }, text));
    }
  }

  function problemText(p) {
    const where = p.line ? `line ${p.line}` : "";
    const field = p.field ? `${p.field}: ` : "";
    return `${where}${where ? ": " : ""}${field}${p.message}`;
  }

  // ---- jobs ----------------------------------------------------------------------------------
  const jobs = new Map();
  const finishedSeen = new Set();

  function jobWhat(job) {
    if (job.all) return job.update ? "every subset (update)" : "every subset";
    const parts = [];
    if (job.subsets && job.subsets.length) parts.push(job.subsets.join(", "));
    if (job.partitions && job.partitions.length) parts.push(plural(job.partitions.length, "partition"));
    return (parts.join(" · ") || "default subset") + (job.update ? " (update)" : "");
  }

  function jobProgress(job) {
    const total = job.bytes_total || 0;
    const done = job.bytes_done || 0;
    const pct = total ? Math.min(100, Math.floor((100 * done) / total)) : job.state === "done" ? 100 : 0;
    return { pct, text: `${humanBytes(done)} of ${humanBytes(total)}` };
  }

  function jobButtons(job) {
    const buttons = [];
    if (ACTIVE.has(job.state) && job.state !== "cancelling") {
      buttons.push(el("button", { type: "button", class: "small", "data-action": "cancel-job", "data-job": job.id }, "Cancel"));
    }
    if (job.state === "cancelled" || job.state === "interrupted" || job.state === "failed") {
      buttons.push(el("button", { type: "button", class: "small primary", "data-action": "resume-job", "data-job": job.id }, "Resume"));
    }
    if (!ACTIVE.has(job.state)) {
      buttons.push(el("button", { type: "button", class: "small secondary", "data-action": "dismiss-job", "data-job": job.id }, "Dismiss"));
    }
    return buttons;
  }

  function progressBar(job) {
    const { pct, text } = jobProgress(job);
    const bar = el("progress", { max: "100", value: String(pct), "aria-label": `${job.dataset} ${pct}%` });
    return el("span", { class: "progress" }, bar, el("span", { class: "bytes" }, ` ${pct}% · ${text}`));
  }

  function renderStrip() {
    const strip = document.getElementById("jobs-strip");
    if (!strip) return;
    const shown = [...jobs.values()]
      .filter((j) => ACTIVE.has(j.state) || ["interrupted", "failed"].includes(j.state) || finishedSeen.has(j.id))
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
      .slice(0, 3);
    strip.replaceChildren();
    for (const job of shown) {
      const item = el(
        "div",
        { class: `job job-${job.state}`, "data-job-id": job.id, "data-state": job.state },
        el("a", { href: "/jobs", class: "job-name" }, job.dataset),
        el("span", { class: `job-state state state-${job.state}` }, job.state),
        progressBar(job),
        ACTIVE.has(job.state) && job.rate ? el("span", { class: "rate" }, `${humanBytes(job.rate)}/s`) : null,
        el("span", { class: "files" }, `${job.files_done}/${job.files_total} files`),
        ...jobButtons(job)
      );
      if (job.error) item.title = job.error;
      strip.append(item);
    }
    const more = [...jobs.values()].filter((j) => ACTIVE.has(j.state)).length - shown.filter((j) => ACTIVE.has(j.state)).length;
    if (more > 0) strip.append(el("a", { href: "/jobs", class: "more" }, `+${more} more`));
  }

  function renderJobsTable() {
    const body = document.getElementById("jobs-body");
    if (!body) return;
    const all = [...jobs.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    body.replaceChildren();
    if (!all.length) {
      body.append(el("tr", { class: "empty-row" }, el("td", { colspan: "9", class: "empty" }, "No jobs yet.")));
      return;
    }
    for (const job of all) {
      body.append(
        el(
          "tr",
          { "data-job-id": job.id, "data-state": job.state, class: `job job-${job.state}` },
          el("td", {}, el("code", {}, job.id)),
          el("td", {}, el("a", { href: `/datasets/${encodeURIComponent(job.dataset)}` }, job.dataset)),
          el("td", {}, jobWhat(job)),
          el("td", {}, el("span", { class: `job-state state state-${job.state}` }, job.state), job.error ? el("div", { class: "job-error" }, job.error) : null),
          el("td", {}, progressBar(job)),
          el("td", { class: "num files" }, `${job.files_done}/${job.files_total}`),
          el("td", { class: "num rate" }, ACTIVE.has(job.state) ? `${humanBytes(job.rate || 0)}/s` : "-"),
          el("td", {}, (job.started_at || job.created_at || "").replace("T", " ").slice(0, 19)),
          el("td", { class: "buttons" }, ...jobButtons(job))
        )
      );
    }
  }

  /** A job's new state, from the event stream (in order) or from the answer to a request
   * (`answer`): the stream may have told a later state already (a small download can be done
   * before its POST is answered), so an answer counts only when it is strictly newer. */
  function jobChanged(job, answer) {
    const before = jobs.get(job.id);
    if (answer && before && !(job.updated_at > before.updated_at)) return;
    jobs.set(job.id, job);
    if (before && ACTIVE.has(before.state) && !ACTIVE.has(job.state)) {
      finishedSeen.add(job.id);
      refreshTables(job.dataset);
    }
    renderStrip();
    renderJobsTable();
  }

  function refreshTables(dataset) {
    const subset = document.getElementById("subset");
    if (subset && subset.dataset.dataset === dataset) refreshPartitions();
    const page = document.getElementById("dataset");
    if (page && page.dataset.dataset === dataset && window.htmx) {
      htmx.ajax("GET", `/fragments/datasets/${encodeURIComponent(dataset)}/subsets`, { target: "#subsets" });
    }
  }

  /** Load the partitions table again (same filters, sort and page), e.g. after a download. */
  function refreshPartitions() {
    const form = document.getElementById("partitions-filters");
    const table = document.querySelector("table.partitions");
    if (!form || !window.htmx) return;
    const params = new URLSearchParams(new FormData(form));
    if (table && table.dataset.page) params.set("page", table.dataset.page);
    htmx.ajax("GET", `${form.getAttribute("hx-get")}?${params}`, { target: "#partitions", swap: "innerHTML" });
  }

  function listenToJobs() {
    if (!window.EventSource) return;
    const source = new EventSource("/api/jobs/events");
    source.addEventListener("job", (event) => {
      try {
        jobChanged(JSON.parse(event.data));
      } catch (err) {
        /* a malformed event is ignored; the next one replaces it */
      }
    });
    source.addEventListener("deleted", (event) => {
      try {
        jobs.delete(JSON.parse(event.data).id);
      } catch (err) {
        return;
      }
      renderStrip();
      renderJobsTable();
    });
    window.addEventListener("beforeunload", () => source.close());
  }

  async function startJob(body) {
    const job = await api("POST", "/api/jobs", body);
    finishedSeen.add(job.id);
    const told = jobs.get(job.id);
    jobChanged(job, true);
    if (told && !ACTIVE.has(told.state)) refreshTables(job.dataset); // done before it was answered
    return job;
  }

  const actions = {
    "cancel-job": (button) => api("POST", `/api/jobs/${encodeURIComponent(button.dataset.job)}/cancel`).then((job) => jobChanged(job, true)),
    "resume-job": (button) => api("POST", `/api/jobs/${encodeURIComponent(button.dataset.job)}/resume`).then((job) => jobChanged(job, true)),
    "dismiss-job": async (button) => {
      await api("DELETE", `/api/jobs/${encodeURIComponent(button.dataset.job)}`);
      jobs.delete(button.dataset.job);
      renderStrip();
      renderJobsTable();
    },
  };

  // ---- the dataset page ----------------------------------------------------------------------
  function datasetName() {
    const panel = document.getElementById("dataset") || document.getElementById("subset");
    return panel ? panel.dataset.dataset : null;
  }

  actions.sync = async () => {
    const name = datasetName();
    const result = await api("POST", `/api/datasets/${encodeURIComponent(name)}/sync`);
    const changes = [];
    if (result.new && result.new.length) changes.push(`${result.new.length} new`);
    if (result.stale && result.stale.length) changes.push(`${result.stale.length} stale`);
    if (result.gone && result.gone.length) changes.push(`${result.gone.length} gone`);
    flash(
      `Synced ${name}: ${plural(result.subsets, "subset")}, ${plural(result.partitions, "partition")}, ${humanBytes(result.bytes)}` +
        (changes.length ? ` (${changes.join(", ")})` : "") +
        "."
    );
    location.reload();
  };

  actions["download-subset"] = async (button) => {
    const job = await startJob({ dataset: button.dataset.dataset, subsets: [button.dataset.subset], partitions: [] });
    note(`Download started: ${job.dataset}/${button.dataset.subset} (job ${job.id}).`);
  };

  actions["fetch-updates"] = async (button) => {
    const name = button.dataset.dataset;
    const partitions = JSON.parse(button.dataset.partitions || "[]");
    await api("POST", `/api/datasets/${encodeURIComponent(name)}/sync`);
    const subsets = [...new Set(partitions.map((p) => p.split("/")[0]))];
    const job = await startJob({ dataset: name, subsets, partitions, update: true });
    note(`Fetching what changed: ${plural(partitions.length, "partition")} (job ${job.id}).`);
  };

  actions["open-dialog"] = (button) => {
    const dialog = document.getElementById(button.dataset.dialog);
    if (dialog) dialog.showModal();
  };

  function note(message) {
    const box = document.getElementById("sync-result");
    if (box) box.textContent = message;
    else flashNow(message);
  }

  function flashNow(message) {
    const old = document.querySelector("main > .flash");
    if (old) old.remove();
    const main = document.querySelector("main");
    if (main) main.prepend(el("div", { class: "flash", role: "status" }, message));
  }

  function splitList(value) {
    return value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }

  function wireManifestForm() {
    const form = document.getElementById("manifest-form");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      const errorBox = form.querySelector(".form-error");
      const saved = form.querySelector(".saved");
      errorBox.replaceChildren();
      saved.textContent = "";
      guarded(button, async () => {
        const data = new FormData(form);
        const body = {
          description: data.get("description"),
          modality: splitList(data.get("modality")),
          tags: splitList(data.get("tags")),
          license: data.get("license").trim() || null,
        };
        if (form.dataset.sha256) body.expected_sha256 = form.dataset.sha256;
        try {
          await api("PATCH", `/api/datasets/${encodeURIComponent(form.dataset.dataset)}/manifest`, body);
        } catch (err) {
          const list = el("ul", { class: "problems" });
          problemsList(list, (err.data && err.data.problems) || []);
          errorBox.replaceChildren(el("div", { class: "error", role: "alert" }, err.message), list);
          return;
        }
        flash(`Saved the manifest of ${form.dataset.dataset}.`);
        location.reload();
      });
    });
  }

  function wireDialogs() {
    const forget = document.querySelector("[data-action-form=forget]");
    if (forget) {
      const dialog = forget.closest("dialog");
      dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "confirm") return;
        const name = forget.dataset.dataset;
        const box = forget.querySelector("input[name=manifest]");
        const withManifest = Boolean(box && box.checked);
        guarded(null, async () => {
          const result = await api("DELETE", `/api/datasets/${encodeURIComponent(name)}?manifest=${withManifest}`);
          if (result && result.deleted_manifest) {
            flash(`Forgot ${name} and deleted its manifest ${result.deleted_manifest}.`);
            location.assign("/");
          } else {
            flash(result && result.forgotten ? `Forgot ${name}: its listing is dropped, downloaded files stay.` : `${name} was not synced: nothing to forget.`);
            location.reload();
          }
        });
      });
    }
  }

  // ---- the subset page -----------------------------------------------------------------------
  const selected = new Set();

  function subsetInfo() {
    const panel = document.getElementById("subset");
    return panel ? { dataset: panel.dataset.dataset, subset: panel.dataset.subset } : null;
  }

  function syncSelection() {
    const table = document.querySelector("table.partitions");
    if (!table) return;
    const boxes = [...table.querySelectorAll("input.select-one")];
    for (const box of boxes) box.checked = selected.has(box.value);
    const pageBox = table.querySelector("input.select-page");
    if (pageBox) {
      const on = boxes.filter((b) => b.checked).length;
      pageBox.checked = boxes.length > 0 && on === boxes.length;
      pageBox.indeterminate = on > 0 && on < boxes.length;
    }
    const count = document.querySelector("#selection-bar .selected-count");
    if (count) count.textContent = selected.size ? `${plural(selected.size, "partition")} selected` : "nothing selected";
    for (const name of ["download-selection", "remove-selection"]) {
      const button = document.querySelector(`[data-action=${name}]`);
      if (button) button.disabled = selected.size === 0;
    }
    const first = document.getElementById("preview-partition");
    if (first) first.value = selected.size ? [...selected][0] : "";
  }

  function wireSelection() {
    document.addEventListener("change", (event) => {
      const box = event.target;
      if (!(box instanceof HTMLInputElement)) return;
      if (box.classList.contains("select-one")) {
        if (box.checked) selected.add(box.value);
        else selected.delete(box.value);
        syncSelection();
      } else if (box.classList.contains("select-page")) {
        for (const one of document.querySelectorAll("table.partitions input.select-one")) {
          if (box.checked) selected.add(one.value);
          else selected.delete(one.value);
        }
        syncSelection();
      }
    });
    syncSelection();
  }

  function selectionBody() {
    const info = subsetInfo();
    return { subsets: [info.subset], partitions: [...selected] };
  }

  actions["clear-selection"] = () => {
    selected.clear();
    syncSelection();
  };

  actions["download-selection"] = async () => {
    const info = subsetInfo();
    const job = await startJob({ dataset: info.dataset, ...selectionBody() });
    flashNow(`Download started: ${plural(job.partitions.length || selected.size, "partition")} of ${info.dataset}/${info.subset} (job ${job.id}).`);
  };

  actions["remove-selection"] = async () => {
    const info = subsetInfo();
    const dialog = document.getElementById("remove-dialog");
    const planBox = dialog.querySelector(".plan");
    const confirm = dialog.querySelector("[data-confirm]");
    const body = selectionBody();
    confirm.disabled = true;
    planBox.textContent = "Working out what would be removed…";
    dialog.showModal();
    let plan;
    try {
      plan = await api("POST", `/api/datasets/${encodeURIComponent(info.dataset)}/remove/plan`, body);
    } catch (err) {
      planBox.replaceChildren(el("div", { class: "error", role: "alert" }, err.message));
      return;
    }
    const files = plan.files || [];
    const lines = [
      el("p", { class: "frees" }, `This frees ${humanBytes(plan.bytes)} (${plan.bytes.toLocaleString("en")} bytes): ${plural(files.length, "file")} deleted.`),
    ];
    if (plan.not_local && plan.not_local.length) lines.push(el("p", { class: "note" }, `${plural(plan.not_local.length, "partition")} chosen are not local (nothing to remove).`));
    if (plan.shared && plan.shared.length) lines.push(el("p", { class: "note" }, `${plural(plan.shared.length, "partition")} are in a shared data directory and stay.`));
    const list = el("ul", { class: "files" });
    for (const f of files.slice(0, 20)) list.append(el("li", {}, `${f.path || f.partition} (${humanBytes(f.size)})`));
    if (files.length > 20) list.append(el("li", {}, `… and ${files.length - 20} more`));
    lines.push(list);
    planBox.replaceChildren(...lines);
    confirm.disabled = files.length === 0 && !(plan.records && plan.records.length);
    dialog.dataset.body = JSON.stringify(body);
  };

  function wireRemoveDialog() {
    const dialog = document.getElementById("remove-dialog");
    if (!dialog) return;
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "confirm" || !dialog.dataset.body) return;
      const info = subsetInfo();
      const body = JSON.parse(dialog.dataset.body);
      delete dialog.dataset.body;
      guarded(null, async () => {
        const report = await api("POST", `/api/datasets/${encodeURIComponent(info.dataset)}/remove`, body);
        const busy = report.busy && report.busy.length ? ` (${plural(report.busy.length, "partition")} busy downloading, left alone)` : "";
        flashNow(`Removed ${plural((report.files || []).length, "file")}, freed ${humanBytes(report.bytes)}${busy}.`);
        selected.clear();
        syncSelection();
        refreshPartitions();
      });
    });
  }

  // snippets
  let snippets = null;
  actions.snippets = async () => {
    const info = subsetInfo();
    const params = new URLSearchParams();
    for (const p of selected) params.append("partition", p);
    const url = `/api/datasets/${encodeURIComponent(info.dataset)}/subsets/${encodeURIComponent(info.subset)}/snippets?${params}`;
    snippets = await api("GET", url);
    const dialog = document.getElementById("snippets-dialog");
    showTab(dialog, "load");
    dialog.querySelector(".copied").textContent = "";
    dialog.showModal();
  };

  function showTab(dialog, key) {
    for (const tab of dialog.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === key));
    dialog.querySelector("#snippet-code").textContent = (snippets && snippets[key]) || "";
    dialog.dataset.tab = key;
  }

  function wireSnippets() {
    const dialog = document.getElementById("snippets-dialog");
    if (!dialog) return;
    dialog.addEventListener("click", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (tab) showTab(dialog, tab.dataset.tab);
    });
  }

  actions["copy-snippet"] = async () => {
    const dialog = document.getElementById("snippets-dialog");
    const text = dialog.querySelector("#snippet-code").textContent;
    const status = dialog.querySelector(".copied");
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Copied to the clipboard.";
    } catch (err) {
      status.textContent = "The browser refused the clipboard: select the text and copy it.";
    }
  };

  // the preview's rows slider shows its value
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.type === "range" && input.dataset.output) {
      const out = document.getElementById(input.dataset.output);
      if (out) out.textContent = input.value;
    }
  });

  // ---- the add page --------------------------------------------------------------------------
  function wireAdd() {
    const form = document.getElementById("propose-form");
    if (!form) return;
    const proposal = document.getElementById("proposal");
    const editor = document.getElementById("manifest-text");
    const problems = document.getElementById("problems");
    let timer = null;
    let generation = 0;

    function showProblems(list) {
      if (!list.length) {
        problems.replaceChildren(el("li", { class: "ok" }, "The manifest is valid."));
      } else {
        problemsList(problems, list);
      }
      problems.dataset.count = String(list.length);
    }

    async function check() {
      const mine = ++generation;
      try {
        const result = await api("POST", "/api/manifests/check", { text: editor.value });
        if (mine === generation) showProblems(result.problems || []);
      } catch (err) {
        if (mine !== generation) return;
        // invalid text is a 422 carrying every problem: shown as the list, not as an error
        if (err.data && Array.isArray(err.data.problems)) showProblems(err.data.problems);
        else showError(err.message);
      }
    }

    editor.addEventListener("input", () => {
      clearTimeout(timer);
      problems.dataset.count = "";
      timer = setTimeout(check, 300);
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const busy = form.querySelector(".busy");
      const button = form.querySelector("button[type=submit]");
      const data = new FormData(form);
      const body = { repo: data.get("repo").trim() };
      if (data.get("name").trim()) body.name = data.get("name").trim();
      if (data.get("revision").trim()) body.revision = data.get("revision").trim();
      busy.hidden = false;
      guarded(button, async () => {
        try {
          const found = await api("POST", "/api/manifests/propose", body);
          editor.value = found.text;
          const review = document.getElementById("proposal-review");
          const items = (found.review || []).map((r) => el("li", {}, r));
          const rows = (found.subsets || []).map((s) =>
            el("tr", {}, el("td", {}, s.subset), el("td", { class: "num" }, String(s.partitions)), el("td", { class: "num" }, humanBytes(s.bytes)), el("td", { class: "num" }, s.rows === null || s.rows === undefined ? "-" : s.rows.toLocaleString("en")))
          );
          review.replaceChildren(
            el("h2", {}, `Proposed: ${found.name}`),
            rows.length
              ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "Subset"), el("th", {}, "Partitions"), el("th", {}, "Bytes"), el("th", {}, "Rows"))), el("tbody", {}, ...rows))
              : el("p", { class: "note" }, "No subset resolved yet: edit the rules below."),
            items.length ? el("div", { class: "review" }, el("h3", {}, "To review"), el("ul", {}, ...items)) : null
          );
          proposal.hidden = false;
          showProblems(found.problems || []);
        } finally {
          busy.hidden = true;
        }
      });
    });

    actions["save-manifest"] = async () => {
      const busy = document.getElementById("save-busy");
      busy.hidden = false;
      try {
        const result = await api("POST", "/api/manifests", {
          text: editor.value,
          overwrite: document.getElementById("overwrite").checked,
          sync: true,
        });
        const sync = result.sync;
        const synced = sync && !sync.error ? `, synced: ${plural(sync.subsets, "subset")}, ${plural(sync.partitions, "partition")}` : sync && sync.error ? `; the sync failed: ${sync.error}` : "";
        flash(`Saved ${result.manifest.path}${synced}.`);
        location.assign(`/datasets/${encodeURIComponent(result.manifest.name)}`);
      } catch (err) {
        if (err.data && err.data.problems) showProblems(err.data.problems);
        throw err;
      } finally {
        busy.hidden = true;
      }
    };
  }

  // ---- wiring --------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action]");
    if (target && actions[target.dataset.action]) {
      event.preventDefault();
      guarded(target, () => actions[target.dataset.action](target));
      return;
    }
    const error = event.target.closest("#errors .error");
    if (error) error.remove();
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail && event.detail.elt;
    if (!(form && document.getElementById("errors").contains(form))) clearErrors();
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "partitions") syncSelection();
  });
  document.addEventListener("htmx:sendError", () => {
    showError("the pygestor server cannot be reached (is 'pygestor ui' still running?)");
  });

  function start() {
    showFlash();
    wireManifestForm();
    wireDialogs();
    wireSelection();
    wireRemoveDialog();
    wireSnippets();
    wireAdd();
    listenToJobs();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.pygestor = { jobs, selected, api };
})();
