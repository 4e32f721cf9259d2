// mistype-web-lint/compose: lint the recipient fields of a compose form as the user types.
//
// Dependency-free; works with any Linter from mistype-web-lint. See compose.d.ts for the API.
//
//   import init, { Linter } from "mistype-web-lint";
//   import { attachCompose } from "mistype-web-lint/compose";
//   await init();
//   const compose = attachCompose(document.querySelector("form"), new Linter());
//
// What it does:
// - lints To/Cc/Bcc (text inputs with comma- or semicolon-separated addresses, or chip
//   containers whose chips carry `data-address`) a short moment after each keystroke;
// - shows "Did you mean j.smith@army.mil?" beside the field with a one-click fix, marks block
//   findings, and explains the reason on demand ("Why?");
// - announces new findings through an aria-live region; everything is a real <button>, so it is
//   usable with the keyboard alone;
// - on submit with a block finding still present, stops the submit and asks in an in-page
//   <dialog>; "Send anyway" submits again (the page's own submit handler then runs).
// It never blocks typing: linting runs after a debounce and costs microseconds per address.

const DEFAULTS = {
  fields: ["to", "cc", "bcc"],
  debounce: 150,
  labels: { to: "To", cc: "Cc", bcc: "Bcc" },
};

let uid = 0;

/**
 * Split recipient text into entries at commas and semicolons that are outside quotes, angle
 * brackets and comments. Each entry keeps its offsets so that a fix replaces exactly it.
 */
export function splitRecipients(text) {
  const out = [];
  let start = 0;
  let quote = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (i < text.length) {
      if (quote) {
        if (c === "\\") i++;
        else if (c === '"') quote = false;
        continue;
      }
      if (c === '"') quote = true;
      else if (c === "(") comment++;
      else if (c === ")" && comment > 0) comment--;
      else if (c === "<") angle++;
      else if (c === ">" && angle > 0) angle--;
      if (!((c === "," || c === ";") && angle === 0 && comment === 0)) continue;
    }
    const raw = text.slice(start, i);
    const lead = raw.length - raw.trimStart().length;
    const value = raw.trim();
    if (value) out.push({ value, start: start + lead, end: start + lead + value.length });
    start = i + 1;
  }
  return out;
}

/** The entry with its domain replaced by `intended` (the local part stays as typed). */
export function applySuggestion(entry, finding) {
  if (finding.intended) {
    const at = entry.lastIndexOf("@");
    if (at >= 0) {
      const rest = entry.slice(at + 1);
      const m = /^[^\s>),;]*/.exec(rest);
      const domainEnd = at + 1 + (m ? m[0].length : rest.length);
      return entry.slice(0, at + 1) + finding.intended + entry.slice(domainEnd);
    }
  }
  if (finding.suggestion && finding.address && entry.includes(finding.address)) {
    return entry.replace(finding.address, finding.suggestion);
  }
  return finding.suggestion || entry;
}

function el(doc, tag, attrs = {}, children = []) {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

const VISUALLY_HIDDEN =
  "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;" +
  "clip:rect(0 0 0 0);white-space:nowrap;border:0";

function resolve(value, fallback) {
  if (typeof value === "function") return value();
  return value === undefined ? fallback : value;
}

/**
 * Attach the linter to a compose form. Returns a controller; see compose.d.ts.
 */
export function attachCompose(form, linter, options = {}) {
  const doc = form.ownerDocument;
  const opts = { ...DEFAULTS, ...options, labels: { ...DEFAULTS.labels, ...(options.labels || {}) } };
  const id = `mistype-${++uid}`;
  let current = linter;
  let timer = null;
  let bypass = false;
  let lastAnnounced = "";
  /** field name -> [{entry, finding}] */
  let results = new Map();

  const fields = opts.fields
    .map((name) => {
      const node =
        typeof name === "string"
          ? form.elements.namedItem(name) || form.querySelector(`[data-mistype-field="${name}"]`)
          : name;
      if (!node) return null;
      const key = typeof name === "string" ? name : node.name || node.id || "field";
      const notes = el(doc, "div", {
        class: "mistype-notes",
        id: `${id}-${key}-notes`,
        "data-mistype-for": key,
      });
      node.after(notes);
      const described = node.getAttribute("aria-describedby");
      node.setAttribute("aria-describedby", `${described ? described + " " : ""}${notes.id}`);
      return { key, node, notes, described, chips: !("value" in node) };
    })
    .filter(Boolean);

  const live = el(doc, "div", {
    class: "mistype-live",
    "aria-live": "polite",
    role: "status",
    style: VISUALLY_HIDDEN,
  });
  form.append(live);

  // The confirmation dialog: a native modal <dialog> traps focus and closes on Escape.
  const dialogTitle = el(doc, "h2", { id: `${id}-dialog-title`, text: "Send to a blocked address?" });
  const dialogBody = el(doc, "div", { id: `${id}-dialog-body`, class: "mistype-dialog-body" });
  const cancelBtn = el(doc, "button", { type: "button", class: "mistype-dialog-cancel", text: "Go back and fix" });
  const confirmBtn = el(doc, "button", { type: "button", class: "mistype-dialog-confirm", text: "Send anyway" });
  const dialog = el(
    doc,
    "dialog",
    {
      class: "mistype-dialog",
      role: "alertdialog",
      "aria-modal": "true",
      "aria-labelledby": dialogTitle.id,
      "aria-describedby": dialogBody.id,
    },
    [dialogTitle, dialogBody, el(doc, "div", { class: "mistype-dialog-actions" }, [cancelBtn, confirmBtn])],
  );
  form.append(dialog);

  function context() {
    const fromField = form.elements.namedItem("from");
    const from = resolve(opts.from, fromField && "value" in fromField ? fromField.value : null);
    const contacts = resolve(opts.contacts, []);
    return { from: from || null, contacts: Array.isArray(contacts) ? contacts : [] };
  }

  function entriesOf(f) {
    if (!f.chips) return splitRecipients(f.node.value).map((e) => ({ ...e, chip: null }));
    return [...f.node.querySelectorAll("[data-address]")].map((chip) => ({
      value: chip.getAttribute("data-address"),
      chip,
    }));
  }

  function lintField(f, ctx) {
    const found = [];
    for (const entry of entriesOf(f)) {
      let findings;
      try {
        findings = current.checkAddress(entry.value, ctx);
      } catch (e) {
        findings = [];
      }
      for (const finding of findings) found.push({ entry, finding });
    }
    return found;
  }

  function fix(f, entry, finding) {
    const fixed = applySuggestion(entry.value, finding);
    if (entry.chip) {
      entry.chip.setAttribute("data-address", fixed);
      // The chip's label may be a display name; only rewrite the address part of it.
      const label = entry.chip.textContent;
      if (label.includes(entry.value)) entry.chip.textContent = label.replace(entry.value, fixed);
      else if (finding.suggestion && label.includes(finding.address)) {
        entry.chip.textContent = label.replace(finding.address, finding.suggestion);
      }
    } else {
      // Replace exactly this entry, if the text has not moved under us; else the first match.
      const text = f.node.value;
      const at = text.slice(entry.start, entry.end) === entry.value ? entry.start : text.indexOf(entry.value);
      if (at < 0) return;
      f.node.value = text.slice(0, at) + fixed + text.slice(at + entry.value.length);
      f.node.dispatchEvent(new Event("input", { bubbles: true }));
    }
    lintNow();
    live.textContent = `${opts.labels[f.key] || f.key}: changed to ${applySuggestion(entry.value, finding)}.`;
    lastAnnounced = announceKey();
    f.node.focus();
  }

  function renderField(f, found) {
    // Leave the DOM alone when nothing changed: a re-render on blur/change would swallow the
    // click that caused the blur and lose keyboard focus and opened explanations.
    const key = found
      .map(({ entry, finding }) => `${entry.value}|${finding.address}|${finding.suggestion}|${finding.severity}|${finding.kind}`)
      .join("\n");
    if (f.rendered === key) return;
    f.rendered = key;
    f.notes.replaceChildren();
    const hasBlock = found.some((x) => x.finding.severity === "block");
    f.node.classList.toggle("mistype-has-block", hasBlock);
    f.node.classList.toggle("mistype-has-warn", !hasBlock && found.length > 0);
    if (hasBlock) f.node.setAttribute("aria-invalid", "true");
    else f.node.removeAttribute("aria-invalid");
    found.forEach(({ entry, finding }, i) => {
      const block = finding.severity === "block";
      const reasonId = `${id}-${f.key}-reason-${i}`;
      const reason = el(doc, "p", { class: "mistype-reason", id: reasonId, hidden: true, text: finding.reason });
      const why = el(doc, "button", {
        type: "button",
        class: "mistype-why",
        "aria-expanded": "false",
        "aria-controls": reasonId,
        text: "Why?",
      });
      why.addEventListener("click", () => {
        const open = why.getAttribute("aria-expanded") !== "true";
        why.setAttribute("aria-expanded", String(open));
        reason.hidden = !open;
      });
      const parts = [
        el(doc, "strong", { class: "mistype-badge", text: block ? "Blocked" : "Check" }),
        " ",
      ];
      if (finding.suggestion) {
        const fixBtn = el(doc, "button", {
          type: "button",
          class: "mistype-fix",
          "aria-label": `Change ${finding.address} to ${finding.suggestion}`,
          text: finding.suggestion,
        });
        fixBtn.addEventListener("click", () => fix(f, entry, finding));
        parts.push(
          el(doc, "span", { class: "mistype-address", text: finding.address }),
          ": Did you mean ",
          fixBtn,
          "? ",
        );
      } else {
        parts.push(el(doc, "span", { class: "mistype-address", text: finding.address }), " looks wrong. ");
      }
      parts.push(why, reason);
      f.notes.append(
        el(
          doc,
          "div",
          {
            class: `mistype-note mistype-${finding.severity}`,
            "data-severity": finding.severity,
            "data-kind": finding.kind,
          },
          parts,
        ),
      );
    });
  }

  function announceKey() {
    return [...results.entries()]
      .flatMap(([k, list]) => list.map((x) => `${k}|${x.finding.address}|${x.finding.suggestion}|${x.finding.severity}`))
      .join("\n");
  }

  function announce() {
    const key = announceKey();
    if (key === lastAnnounced) return;
    lastAnnounced = key;
    const msgs = [];
    for (const [k, list] of results) {
      for (const { finding } of list) {
        const label = opts.labels[k] || k;
        const sev = finding.severity === "block" ? "Blocked" : "Warning";
        msgs.push(
          finding.suggestion
            ? `${sev}: ${label} ${finding.address}. Did you mean ${finding.suggestion}?`
            : `${sev}: ${label} ${finding.address} looks wrong.`,
        );
      }
    }
    live.textContent = msgs.join(" ");
  }

  function lintNow() {
    clearTimeout(timer);
    timer = null;
    const ctx = context();
    const next = new Map();
    for (const f of fields) next.set(f.key, lintField(f, ctx));
    results = next;
    render();
    return state();
  }

  // While a pointer is down in the form, the notes are not redrawn: typing and then clicking
  // Send at once lints on blur, and notes appearing between mousedown and mouseup would move
  // the button away and swallow the click. The results are current; drawing waits for the click.
  let pointerDown = false;
  let renderPending = false;
  function render() {
    if (pointerDown) {
      renderPending = true;
      return;
    }
    renderPending = false;
    for (const f of fields) renderField(f, results.get(f.key) || []);
    announce();
  }
  function onPointerDown() {
    pointerDown = true;
  }
  function onPointerUp() {
    if (!pointerDown) return;
    pointerDown = false;
    // After the click event that follows this pointerup.
    setTimeout(() => {
      if (renderPending && !pointerDown) render();
    }, 0);
  }

  function state() {
    const findings = [];
    for (const [field, list] of results) {
      for (const { entry, finding } of list) findings.push({ field, entry: entry.value, finding });
    }
    return { findings, block: findings.some((x) => x.finding.severity === "block") };
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(lintNow, opts.debounce);
  }

  function onSubmit(event) {
    if (bypass) {
      bypass = false;
      return;
    }
    const s = lintNow();
    const blocked = s.findings.filter((x) => x.finding.severity === "block");
    if (blocked.length === 0) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    dialogBody.replaceChildren(
      el(doc, "p", { text: "These recipients look misaddressed:" }),
      el(
        doc,
        "ul",
        {},
        blocked.map(({ finding }) =>
          el(doc, "li", {}, [
            el(doc, "span", { class: "mistype-address", text: finding.address }),
            finding.suggestion ? ` (did you mean ${finding.suggestion}?)` : "",
            " ",
            el(doc, "span", { class: "mistype-dialog-reason", text: finding.reason }),
          ]),
        ),
      ),
    );
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    cancelBtn.focus();
  }

  function closeDialog() {
    if (typeof dialog.close === "function" && dialog.open) dialog.close();
    else dialog.removeAttribute("open");
  }

  cancelBtn.addEventListener("click", () => {
    closeDialog();
    const first = fields.find((f) => f.node.classList.contains("mistype-has-block"));
    if (first) first.node.focus();
  });
  confirmBtn.addEventListener("click", () => {
    closeDialog();
    bypass = true;
    if (typeof opts.onConfirm === "function") opts.onConfirm(state());
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
  });

  const listeners = [];
  for (const f of fields) {
    const on = (type, fn) => {
      f.node.addEventListener(type, fn);
      listeners.push([f.node, type, fn]);
    };
    on("input", schedule);
    on("change", lintNow);
    on("blur", () => {
      if (timer) lintNow();
    });
  }
  const fromField = form.elements.namedItem("from");
  if (fromField && fromField.addEventListener) {
    fromField.addEventListener("input", schedule);
    listeners.push([fromField, "input", schedule]);
  }
  // Capture phase: runs before the page's own submit handlers on the same form.
  form.addEventListener("submit", onSubmit, true);
  listeners.push([form, "submit", onSubmit, true]);
  form.addEventListener("pointerdown", onPointerDown, true);
  listeners.push([form, "pointerdown", onPointerDown, true]);
  for (const type of ["pointerup", "pointercancel"]) {
    doc.addEventListener(type, onPointerUp, true);
    listeners.push([doc, type, onPointerUp, true]);
  }

  lintNow();

  return {
    lint: lintNow,
    state,
    setLinter(next) {
      current = next;
      return lintNow();
    },
    detach() {
      clearTimeout(timer);
      for (const [node, type, fn, capture] of listeners) node.removeEventListener(type, fn, capture);
      for (const f of fields) {
        f.notes.remove();
        f.node.classList.remove("mistype-has-block", "mistype-has-warn");
        f.node.removeAttribute("aria-invalid");
        if (f.described) f.node.setAttribute("aria-describedby", f.described);
        else f.node.removeAttribute("aria-describedby");
      }
      live.remove();
      dialog.remove();
    },
  };
}
