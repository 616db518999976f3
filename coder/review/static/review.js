/* alliance-coder review: keyboard-first correction of model codes. No dependencies. */
(function () {
  "use strict";
  const token = document.querySelector('meta[name="review-token"]').content;
  const status = document.getElementById("status");
  const help = document.getElementById("help");
  document.getElementById("help-button").addEventListener("click", () => { help.hidden = !help.hidden; });

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "ok";
  }

  const table = document.getElementById("transcript");
  document.addEventListener("keydown", (e) => {
    if (e.key === "?" && !e.ctrlKey && !e.metaKey && !e.altKey) { help.hidden = !help.hidden; e.preventDefault(); }
  });
  if (!table) { return; }

  const rows = Array.from(table.querySelectorAll("tr.utt:not(.other)"));
  const queueMode = new URLSearchParams(location.search).has("queue");
  let current = -1;

  const chipsOf = (row) => Array.from(row.querySelectorAll(".chip"));
  const codesOf = (row) => chipsOf(row).filter((c) => c.classList.contains("on")).map((c) => c.dataset.code);
  const split = (text) => (text ? text.split(";").filter(Boolean) : []);

  function setCodes(row, codes) {
    const want = new Set(codes);
    chipsOf(row).forEach((c) => c.classList.toggle("on", want.has(c.dataset.code)));
    markDirty(row);
  }

  function markDirty(row) {
    const dirty = codesOf(row).join(";") !== split(row.dataset.saved).join(";");
    row.classList.toggle("dirty", dirty);
  }

  function select(i) {
    if (!rows.length) { return; }
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (current >= 0) { rows[current].classList.remove("sel"); }
    current = i;
    rows[i].classList.add("sel");
    rows[i].scrollIntoView({ block: "center" });
  }

  function nextUnreviewed(from) {
    for (let j = from + 1; j < rows.length; j++) { if (!rows[j].classList.contains("reviewed")) { return j; } }
    for (let j = 0; j < from; j++) { if (!rows[j].classList.contains("reviewed")) { return j; } }
    return -1;
  }

  function toggle(row, chip) {
    const on = !chip.classList.contains("on");
    if (chip.classList.contains("talk")) {
      if (!on) { return; }  // exactly one talk type: choosing one replaces the other
      chipsOf(row).filter((c) => c.classList.contains("talk")).forEach((c) => c.classList.remove("on"));
    }
    chip.classList.toggle("on", on);
    markDirty(row);
  }

  function setCounter(id, value) {
    const el = document.getElementById(id);
    if (el && value !== undefined) { el.textContent = value; }
  }

  async function save(row) {
    const codes = codesOf(row);
    const body = { session_id: table.dataset.session, utterance_id: row.dataset.uid, codes: codes,
                   text_hash: row.dataset.hash };
    row.classList.add("saving");
    try {
      const response = await fetch(table.dataset.api, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-Review-Token": token },
        body: JSON.stringify(body),
      });
      const data = await response.json();
      if (!response.ok || !data.ok) { throw new Error(data.error || response.statusText); }
      row.dataset.saved = data.codes.join(";");
      row.dataset.savedAt = data.created_at;
      row.classList.add("reviewed");
      row.querySelector(".mark").textContent = "✓";
      markDirty(row);
      setCounter("reviewed", data.reviewed);
      setCounter("total", data.total);
      setCounter("session-reviewed", data.session_reviewed);
      const bar = document.getElementById("progress-bar");
      if (bar) { bar.value = data.reviewed; }
      say("saved " + row.dataset.uid + ": " + (data.codes.join(", ") || "no code"));
      return true;
    } catch (err) {
      say("NOT saved " + row.dataset.uid + ": " + err.message, true);
      return false;
    } finally {
      row.classList.remove("saving");
    }
  }

  async function saveAndMove(row) {
    if (!(await save(row))) { return; }
    if (queueMode) { location.href = table.dataset.nextUncertain; return; }
    const j = nextUnreviewed(current);
    if (j >= 0) { select(j); } else { say("every utterance of this session is reviewed — n for the next session"); }
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, select")) { return; }
    const row = rows[current];
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === "ArrowDown" || key === "j") { select(current + 1); }
    else if (key === "ArrowUp" || key === "k") { select(current - 1); }
    else if (key === "Enter" && row) { saveAndMove(row); }
    else if (key === "a" && row) { setCodes(row, split(row.dataset.model)); saveAndMove(row); }
    else if (key === "Escape" && row) { setCodes(row, split(row.dataset.saved)); say("changes undone"); }
    else if (key === "n" && table.dataset.nextSession) { location.href = table.dataset.nextSession; }
    else if (key === "p" && table.dataset.prevSession) { location.href = table.dataset.prevSession; }
    else if (key === "u") { location.href = table.dataset.nextUncertain; }
    else if (row && key.length === 1) {
      const chip = row.querySelector('.chip[data-key="' + CSS.escape(key) + '"]');
      if (!chip) { return; }
      toggle(row, chip);
    } else { return; }
    e.preventDefault();
  });

  rows.forEach((row, i) => {
    row.addEventListener("click", (e) => {
      if (current !== i) { select(i); }
      const chip = e.target.closest(".chip");
      if (chip) { toggle(row, chip); }
    });
  });

  const focus = table.dataset.focus;
  const start = focus ? rows.findIndex((r) => r.dataset.uid === focus) : -1;
  select(start >= 0 ? start : Math.max(0, nextUnreviewed(-1)));
})();
