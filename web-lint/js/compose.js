// mistype-web-lint/compose: lint the recipient fields of a compose form as the user types.
//
// Dependency-free; works with any Linter from mistype-web-lint. See compose.d.ts for the API.
//
//   import init, { Linter } from "mistype-web-lint";
//   import { attachCompose } from "mistype-web-lint/compose";
//   await init();
//   const compose = attachCompose(document.querySelector("form"), new Linter());
//
// Adapters (see compose.d.ts) fit it to a webmail's own compose widgets: `plain` (default: named
// form fields), `roundcube` (Roundcube 1.6's recipient chips, its `beforesend` hook), `demo` (the
// project's demo page) and `generic` (recipient-looking fields of any page, for the extension):
//
//   attachCompose(document, linter, { adapter: "roundcube", askOn: "warn" });
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
  // With askOn "warn", the warnings asked about: those scored as surely as the filter's
  // block_warn_score refuses (the core's SURE_WARNING_SCORE, 0.65). A warning only worth a check (a short name one slip from a
  // reference, scored at most 0.6) is shown under the field, not asked about.
  askWarnScore: 0.65,
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

/** The address inside "Name <addr>", or the text itself when it has no angle brackets. */
export function addressOf(text) {
  if (typeof text !== "string") return null;
  const m = /<([^<>]*@[^<>]*)>\s*$/.exec(text);
  const a = (m ? m[1] : text).trim();
  return a.includes("@") ? a : null;
}

/** Keys unique per form: two fields without a name or id are `field-1`, `field-2`. */
function uniqueKey(key, taken, index) {
  let k = key || `field-${index + 1}`;
  if (!taken.has(k)) return k;
  let n = 2;
  while (taken.has(`${k}-${n}`)) n++;
  return `${k}-${n}`;
}

// ---------------------------------------------------------------------------------------------
// Adapters. An adapter knows one webmail's compose page:
//   fields(root, opts) -> [{ key, label, node, entries(), replace(entry, fixed), placeNotes(notes),
//                            watch(onInput, onChange) -> unwatch }]
//   from(root, opts)   -> the sender address or null
//   hookSend(root, ask) -> unhook; `ask()` returns true when the send may go on now, false when
//                          it was stopped (then the user is asked, and `resend` follows a "yes")
//   resend(root)       -> sends again, after the user confirmed
// ---------------------------------------------------------------------------------------------

function textField(node, key, label) {
  return {
    key,
    label,
    node,
    entries: () => splitRecipients(node.value).map((e) => ({ ...e, chip: null })),
    replace(entry, fixed) {
      // Replace exactly this entry, if the text has not moved under us; else the first match.
      const text = node.value;
      const at = text.slice(entry.start, entry.end) === entry.value ? entry.start : text.indexOf(entry.value);
      if (at < 0) return false;
      node.value = text.slice(0, at) + fixed + text.slice(at + entry.value.length);
      node.dispatchEvent(new Event("input", { bubbles: true }));
      node.dispatchEvent(new Event("change", { bubbles: true }));
      return true;
    },
    placeNotes(notes) {
      node.after(notes);
    },
    watch(onInput, onChange) {
      const blur = () => onChange("blur");
      node.addEventListener("input", onInput);
      node.addEventListener("change", onChange);
      node.addEventListener("blur", blur);
      return () => {
        node.removeEventListener("input", onInput);
        node.removeEventListener("change", onChange);
        node.removeEventListener("blur", blur);
      };
    },
  };
}

function chipField(node, key, label) {
  const observer = typeof MutationObserver === "function" ? MutationObserver : null;
  return {
    key,
    label,
    node,
    entries: () =>
      [...node.querySelectorAll("[data-address]")].map((chip) => ({
        value: chip.getAttribute("data-address"),
        chip,
      })),
    replace(entry, fixed, finding) {
      const chip = entry.chip;
      chip.setAttribute("data-address", fixed);
      // The chip's label may be a display name; only rewrite the address part of it.
      const label = chip.textContent;
      if (label.includes(entry.value)) chip.textContent = label.replace(entry.value, fixed);
      else if (finding && finding.suggestion && label.includes(finding.address)) {
        chip.textContent = label.replace(finding.address, finding.suggestion);
      }
      return true;
    },
    placeNotes(notes) {
      node.after(notes);
    },
    watch(onInput, onChange) {
      node.addEventListener("input", onInput);
      node.addEventListener("change", onChange);
      const mo = observer ? new observer(() => onInput()) : null;
      if (mo) mo.observe(node, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-address"] });
      return () => {
        node.removeEventListener("input", onInput);
        node.removeEventListener("change", onChange);
        if (mo) mo.disconnect();
      };
    },
  };
}

function formOf(root) {
  if (root && root.tagName === "FORM") return root;
  return root && root.querySelector ? root.querySelector("form") : null;
}

/** Plain HTML forms: named text inputs, or chip containers whose chips carry `data-address`. */
export const plainAdapter = {
  name: "plain",
  match: () => true,
  fields(root, opts) {
    const form = formOf(root);
    const taken = new Set();
    return opts.fields
      .map((name, i) => {
        const node =
          typeof name === "string"
            ? (form && form.elements.namedItem(name)) || root.querySelector(`[data-mistype-field="${name}"]`)
            : name;
        if (!node) return null;
        const key = uniqueKey(typeof name === "string" ? name : node.name || node.id, taken, i);
        taken.add(key);
        const label = opts.labels[key] || key;
        return "value" in node && typeof node.value === "string" ? textField(node, key, label) : chipField(node, key, label);
      })
      .filter(Boolean);
  },
  from(root) {
    const form = formOf(root);
    const f = form && form.elements.namedItem("from");
    return f && "value" in f ? f.value || null : null;
  },
  fromNode(root) {
    const form = formOf(root);
    const f = form && form.elements.namedItem("from");
    return f && f.addEventListener ? f : null;
  },
  hookSend(root, ask) {
    const form = formOf(root);
    if (!form) return () => {};
    const onSubmit = (event) => {
      if (ask()) return;
      event.preventDefault();
      event.stopImmediatePropagation();
    };
    // Capture phase: runs before the page's own submit handlers on the same form.
    form.addEventListener("submit", onSubmit, true);
    return () => form.removeEventListener("submit", onSubmit, true);
  },
  resend(root) {
    const form = formOf(root);
    if (!form) return;
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
  },
};

/** The project's demo page (web-lint/demo/): a plain form `#compose` with from/to/cc/bcc. */
export const demoAdapter = {
  ...plainAdapter,
  name: "demo",
  match: (root) => !!(root.querySelector && root.querySelector("form#compose input[name=to]")),
  fields(root, opts) {
    return plainAdapter.fields(root.tagName === "FORM" ? root : root.querySelector("form#compose"), opts);
  },
};

const RC_FIELDS = [
  ["_to", "To"],
  ["_cc", "Cc"],
  ["_bcc", "Bcc"],
];

/** The compose window's Roundcube object, when this script runs in the page's own world. */
function rcmailOf(doc) {
  const w = doc.defaultView;
  try {
    return w && w.rcmail && typeof w.rcmail.addEventListener === "function" ? w.rcmail : null;
  } catch {
    return null;
  }
}

/**
 * One Roundcube recipient field. Elastic: the form's `<textarea name="_to">` is off-screen and the
 * user sees `<ul class="recipient-input">` with one `<li class="recipient">` per address and a last
 * `<li class="input"><input>` where the typing happens; the textarea is the widget's text (chips
 * then typed text), and a `change` event on it rebuilds the chips. Larry and other skins without
 * the widget: the textarea itself, like a plain field.
 */
function roundcubeField(textarea, key, label) {
  const list =
    textarea.parentElement &&
    [...textarea.parentElement.children].find((e) => e.tagName === "UL" && e.classList.contains("recipient-input"));
  if (!list) {
    const f = textField(textarea, key, label);
    return { ...f, placeNotes: (notes) => (textarea.closest("td") || textarea.parentElement).append(notes) };
  }
  const typed = () => list.querySelector("li.input input");
  const chipText = (li) => li.textContent.replace(/[,;\s]+$/, "").trim();
  // What Roundcube itself writes into the textarea: every chip's text, then the typed text.
  const widgetText = () => {
    const input = typed();
    return [...list.querySelectorAll("li.recipient")].map((li) => li.textContent).join("") + (input ? input.value : "");
  };
  return {
    key,
    label,
    node: list,
    focusNode: () => typed() || list,
    entries() {
      const out = [...list.querySelectorAll("li.recipient")].map((li) => ({ value: chipText(li), chip: li }));
      const input = typed();
      if (input && input.value.trim()) {
        for (const e of splitRecipients(input.value)) out.push({ ...e, chip: null, typed: true });
      }
      return out;
    },
    replace(entry, fixed) {
      // Rewrite the widget's text and hand it to Roundcube through its own path (textarea value +
      // `change`): the chips are rebuilt from it, so Roundcube's state and the chips both follow.
      const input = typed();
      let text;
      if (entry.chip && entry.chip.isConnected) {
        const lis = [...list.querySelectorAll("li.recipient")];
        text =
          lis.map((li) => (li === entry.chip ? `${fixed}, ` : li.textContent)).join("") + (input ? input.value : "");
      } else {
        const current = widgetText();
        const at = current.lastIndexOf(entry.value);
        if (at < 0) return false;
        text = current.slice(0, at) + fixed + current.slice(at + entry.value.length);
        // A fixed typed address is complete: end it so that it becomes a chip.
        if (!/[,;]\s*$/.test(text)) text += ", ";
      }
      if (input) input.value = "";
      textarea.value = text;
      // jQuery's `.on('change')` listens to the native event as well.
      textarea.dispatchEvent(new Event("change", { bubbles: true }));
      return true;
    },
    placeNotes(notes) {
      // Below the whole input group (chips + buttons), never inside the flex row it lays out.
      const group = list.closest(".input-group") || list;
      group.after(notes);
    },
    watch(onInput, onChange) {
      const mo = new MutationObserver(() => onInput());
      mo.observe(list, { childList: true, subtree: true, characterData: true });
      list.addEventListener("input", onInput);
      list.addEventListener("focusout", onChange);
      return () => {
        mo.disconnect();
        list.removeEventListener("input", onInput);
        list.removeEventListener("focusout", onChange);
      };
    },
  };
}

/** Roundcube 1.6 (elastic, and larry's plain textareas). */
export const roundcubeAdapter = {
  name: "roundcube",
  match: (root) => !!(root.querySelector && root.querySelector('textarea[name="_to"]')),
  fields(root) {
    return RC_FIELDS.map(([name, label]) => {
      const ta = root.querySelector(`textarea[name="${name}"]`);
      return ta ? roundcubeField(ta, name.slice(1), label) : null;
    }).filter(Boolean);
  },
  from(root) {
    // `_from` is an identity id; its option reads "Name <address>". A plain-text `_from` (an
    // identity-less account) holds the address itself.
    const sel = root.querySelector('[name="_from"]');
    if (!sel) return null;
    if (sel.tagName === "SELECT") {
      const opt = sel.selectedOptions && sel.selectedOptions[0];
      return opt ? addressOf(opt.textContent) : null;
    }
    return addressOf(sel.value);
  },
  fromNode: (root) => root.querySelector('[name="_from"]'),
  hookSend(root, ask) {
    const doc = root.ownerDocument || root;
    const rc = rcmailOf(doc);
    if (rc) {
      // Roundcube's own hook: returning false from `beforesend` aborts the command.
      const handler = () => (ask() ? undefined : false);
      rc.addEventListener("beforesend", handler);
      return () => rc.removeEventListener("beforesend", handler);
    }
    // Without access to the page's `rcmail` (an extension's isolated world): stop the click on
    // the Send command before Roundcube's own handler sees it.
    const onClick = (event) => {
      const t = event.target && event.target.closest && event.target.closest("a, button");
      if (!t || !isRoundcubeSend(t)) return;
      if (ask()) return;
      event.preventDefault();
      event.stopImmediatePropagation();
    };
    doc.addEventListener("click", onClick, true);
    return () => doc.removeEventListener("click", onClick, true);
  },
  resend(root) {
    const doc = root.ownerDocument || root;
    const rc = rcmailOf(doc);
    // `props` must be an object: Roundcube reads props.nocheck.
    if (rc) rc.command("send", {});
    else {
      const b = [...doc.querySelectorAll("a, button")].find(isRoundcubeSend);
      if (b) b.click();
    }
  },
};

function isRoundcubeSend(el) {
  const on = el.getAttribute("onclick") || "";
  return /command\(\s*'send'/.test(on) || (el.classList.contains("send") && el.closest(".formbuttons, #compose-content, .footer"));
}

const GENERIC_HINT = /^(to|cc|bcc|recipients?|_to|_cc|_bcc|rcpt|to\[\]|cc\[\]|bcc\[\])$/i;
const GENERIC_LABEL = /^\s*(to|cc|bcc|recipients?|an|à|para|kopie|blindkopie)\s*:?\s*$/i;

/**
 * Any other site: text fields that look like recipient fields (name, id, aria-label, autocomplete
 * or a label saying To/Cc/Bcc), plus `input[type=email][multiple]`.
 */
export const genericAdapter = {
  ...plainAdapter,
  name: "generic",
  match: (root) => genericAdapter.candidates(root).length > 0,
  candidates(root) {
    const doc = root.ownerDocument || root;
    const out = [];
    for (const node of root.querySelectorAll("input, textarea")) {
      if (node.type && !["text", "email", "search", "textarea", ""].includes(node.type)) continue;
      const names = [node.name, node.id, node.getAttribute("aria-label"), node.getAttribute("data-mistype-field")];
      let hit = names.some((n) => n && GENERIC_HINT.test(n.trim()));
      if (!hit && node.type === "email" && node.multiple) hit = true;
      if (!hit && node.id) {
        const lab = doc.querySelector(`label[for="${CSS.escape(node.id)}"]`);
        if (lab && GENERIC_LABEL.test(lab.textContent)) hit = true;
      }
      if (hit) out.push(node);
    }
    return out;
  },
  fields(root, opts) {
    const taken = new Set();
    return genericAdapter.candidates(root).map((node, i) => {
      const key = uniqueKey((node.name || node.id || "").replace(/^_/, "").toLowerCase(), taken, i);
      taken.add(key);
      return textField(node, key, opts.labels[key] || key);
    });
  },
  hookSend(root, ask) {
    const forms = new Set(genericAdapter.candidates(root).map((n) => n.form).filter(Boolean));
    const unhooks = [...forms].map((f) => plainAdapter.hookSend(f, ask));
    return () => unhooks.forEach((u) => u());
  },
  resend(root) {
    const f = genericAdapter.candidates(root).map((n) => n.form).find(Boolean);
    if (f) plainAdapter.resend(f);
  },
};

/** The shipped adapters, by name. */
export const adapters = {
  plain: plainAdapter,
  demo: demoAdapter,
  roundcube: roundcubeAdapter,
  generic: genericAdapter,
};

/** The adapter for a page: Roundcube, the demo page, else the generic one (or null). */
export function detectAdapter(root) {
  for (const a of [roundcubeAdapter, demoAdapter, genericAdapter]) if (a.match(root)) return a;
  return null;
}

/**
 * Attach the linter to a compose form (or, with an adapter, to a webmail's compose page).
 * Returns a controller; see compose.d.ts.
 */
export function attachCompose(root, linter, options = {}) {
  const doc = root.ownerDocument || root;
  const opts = { ...DEFAULTS, ...options, labels: { ...DEFAULTS.labels, ...(options.labels || {}) } };
  const adapter =
    typeof opts.adapter === "string" ? adapters[opts.adapter] : opts.adapter || plainAdapter;
  if (!adapter) throw new Error(`attachCompose: unknown adapter ${JSON.stringify(opts.adapter)}`);
  // Where the live region and the dialog go (never `form.body`: a form names its controls).
  const host = root.nodeType === 9 ? root.body : root;
  const id = `mistype-${++uid}`;
  let current = linter;
  let timer = null;
  let bypass = false;
  let lastAnnounced = "";
  /** field key -> [{entry, finding}] */
  let results = new Map();

  const fields = adapter.fields(root, opts).map((f) => {
    const notes = el(doc, "div", {
      class: "mistype-notes",
      id: `${id}-${f.key}-notes`,
      "data-mistype-for": f.key,
    });
    f.placeNotes(notes);
    const described = f.node.getAttribute("aria-describedby");
    f.node.setAttribute("aria-describedby", `${described ? described + " " : ""}${notes.id}`);
    return { ...f, notes, described };
  });

  const live = el(doc, "div", {
    class: "mistype-live",
    "aria-live": "polite",
    role: "status",
    style: VISUALLY_HIDDEN,
  });
  host.append(live);

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
  host.append(dialog);

  function context() {
    const from = resolve(opts.from, adapter.from(root, opts));
    const contacts = resolve(opts.contacts, []);
    return { from: from || null, contacts: Array.isArray(contacts) ? contacts : [] };
  }

  function lintField(f, ctx) {
    const found = [];
    for (const entry of f.entries()) {
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
    f.replace(entry, fixed, finding);
    lintNow();
    live.textContent = `${f.label}: changed to ${fixed}.`;
    lastAnnounced = announceKey();
    const target = f.focusNode ? f.focusNode() : f.node;
    if (target && target.focus) target.focus();
    if (typeof opts.onFix === "function") opts.onFix({ field: f.key, entry: entry.value, fixed, finding });
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
    if (typeof opts.onFindings === "function") opts.onFindings(state(), msgs);
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

  /** The adapter's before-send: true lets the send go on now. */
  function ask() {
    if (bypass) {
      bypass = false;
      return true;
    }
    const s = lintNow();
    const block = (x) => x.finding.severity === "block";
    const stopOn = opts.askOn === "warn" ? (x) => block(x) || x.finding.score >= opts.askWarnScore : block;
    const asked = s.findings.filter(stopOn);
    if (asked.length === 0) return true;
    const proceed = () => {
      bypass = true;
      if (typeof opts.onConfirm === "function") opts.onConfirm(state());
      adapter.resend(root);
    };
    const cancel = () => {
      const first = fields.find((f) => f.node.classList.contains("mistype-has-block")) || fields[0];
      const target = first && (first.focusNode ? first.focusNode() : first.node);
      if (target && target.focus) target.focus();
    };
    if (typeof opts.confirm === "function") {
      opts.confirm(asked, { proceed, cancel });
      return false;
    }
    const anyBlock = asked.some((x) => x.finding.severity === "block");
    dialogTitle.textContent = anyBlock ? "Send to a blocked address?" : "Send to an address that looks mistyped?";
    dialogBody.replaceChildren(
      el(doc, "p", { text: "These recipients look misaddressed:" }),
      el(
        doc,
        "ul",
        {},
        asked.map(({ finding }) =>
          el(doc, "li", {}, [
            el(doc, "span", { class: "mistype-address", text: finding.address }),
            finding.suggestion ? ` (did you mean ${finding.suggestion}?)` : "",
            " ",
            el(doc, "span", { class: "mistype-dialog-reason", text: finding.reason }),
          ]),
        ),
      ),
    );
    pendingProceed = proceed;
    pendingCancel = cancel;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    cancelBtn.focus();
    return false;
  }
  let pendingProceed = null;
  let pendingCancel = null;

  function closeDialog() {
    if (typeof dialog.close === "function" && dialog.open) dialog.close();
    else dialog.removeAttribute("open");
  }

  cancelBtn.addEventListener("click", () => {
    closeDialog();
    if (pendingCancel) pendingCancel();
  });
  confirmBtn.addEventListener("click", () => {
    closeDialog();
    if (pendingProceed) pendingProceed();
  });

  const unwatch = [];
  for (const f of fields) {
    unwatch.push(
      f.watch(schedule, (why) => {
        // A blur lints only what is still waiting for the debounce; a change lints at once.
        if (why !== "blur" || timer) lintNow();
      }),
    );
  }
  const fromNode = adapter.fromNode ? adapter.fromNode(root, opts) : null;
  if (fromNode) {
    fromNode.addEventListener("input", schedule);
    fromNode.addEventListener("change", schedule);
    unwatch.push(() => {
      fromNode.removeEventListener("input", schedule);
      fromNode.removeEventListener("change", schedule);
    });
  }
  unwatch.push(adapter.hookSend(root, ask));
  const pointerRoot = root.tagName === "FORM" ? root : doc;
  pointerRoot.addEventListener("pointerdown", onPointerDown, true);
  unwatch.push(() => pointerRoot.removeEventListener("pointerdown", onPointerDown, true));
  for (const type of ["pointerup", "pointercancel"]) {
    doc.addEventListener(type, onPointerUp, true);
    unwatch.push(() => doc.removeEventListener(type, onPointerUp, true));
  }

  lintNow();

  return {
    adapter: adapter.name,
    lint: lintNow,
    state,
    setLinter(next) {
      current = next;
      return lintNow();
    },
    skipNextCheck() {
      bypass = true;
    },
    detach() {
      clearTimeout(timer);
      for (const u of unwatch) u();
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
