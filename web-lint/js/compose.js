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
// project's demo page) and `generic` (any page, for the extension: recipient fields and Send
// controls found by role and accessible name, chip widgets included):
//
//   attachCompose(document, linter, { adapter: "roundcube", askOn: "warn" });
//
// What it does:
// - lints To/Cc/Bcc (text inputs with comma- or semicolon-separated addresses, chip widgets, the
//   text being typed into them) a short moment after each keystroke;
// - shows "Did you mean j.smith@army.mil?" under the field with a one-click fix that the page's
//   own code sees (input events; a chip is removed and the fix typed, as a user would), marks
//   block findings, and explains the reason on demand ("Why?"); the generic adapter draws its
//   notes over the page, under the field, never inside the page's layout;
// - announces new findings through an aria-live region; everything is a real <button>, so it is
//   usable with the keyboard alone;
// - stops a send with a block finding (or a sure warning, `askOn: "warn"`) and asks in an
//   in-page modal <dialog> whose focused action, and Enter's and Escape's, is "Go back and fix";
//   it offers the suggestion as an action ("Send to c@navy.mil instead"); "Send anyway" re-issues
//   the page's own send once (its submit, its Send click, its shortcut).
// A note says "Blocked" only where the send can be stopped; elsewhere it says "Check" and why.
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

/**
 * The recipient list `text` with every entry that a finding with a suggestion names (by its
 * address, in any letter case) fixed by `applySuggestion`; the rest stays as typed.
 */
export function applySuggestions(text, findings) {
  let out = text;
  for (const { value, start, end } of splitRecipients(text).reverse()) {
    const address = (addressOf(value) || "").toLowerCase();
    const finding = findings.find((f) => f.suggestion && (f.address || "").toLowerCase() === address);
    if (finding) out = out.slice(0, start) + applySuggestion(value, finding) + out.slice(end);
  }
  return out;
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
//   fields(root, opts) -> [{ key, label, node, entries(), replace(entry, fixed), placeNotes(notes)
//                            (or `overlay: true` and `group`), watch(onInput, onChange) -> unwatch }]
//   from(root, opts)   -> the sender address or null
//   hookSend(root, ask, {listen, fieldNodes}) -> unhook; `ask(how?)` returns true when the send
//                          may go on now, false when it was stopped (then the user is asked, and
//                          `how.resend` or the adapter's `resend` follows a "yes")
//   resend(root)       -> sends again, after the user confirmed
//   canStop(doc, node, fieldNodes) -> optional: whether the send of that field can be stopped
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

// ---------------------------------------------------------------------------------------------
// Any other page: recipient fields and Send controls found the way assistive technology finds
// them, by role and accessible name. A field is a text input, a textarea, a `contenteditable`
// host, a `textbox`, a `combobox` or a `listbox` of chips (typed into beside it) whose name (aria-labelledby, aria-label, a `for=` or wrapping
// label, a label-like sibling in the same row, title, placeholder) or whose name/id says To, Cc
// or Bcc. Its addresses are the chips around it (elements carrying an address in `data-address`,
// `data-email`, `email`, `data-hovercard-id`, `title` or `aria-label`) and the text being typed.
// ---------------------------------------------------------------------------------------------

const GENERIC_HINT = /^(to|cc|bcc|recipients?|_to|_cc|_bcc|rcpt|to\[\]|cc\[\]|bcc\[\])$/i;
/** The words a recipient field's accessible name is made of, by field (English, German, French, Spanish, Portuguese, Dutch). */
const RECIPIENT_WORDS = {
  to: ["to", "recipient", "recipients", "an", "à", "para", "aan"],
  cc: ["cc", "kopie", "copie", "copia", "cópia"],
  bcc: ["bcc", "blindkopie", "bkopie", "cci", "cco"],
};
/** The accessible names of a Send control, in the same languages ("Send (Ctrl-Enter)" too). */
const SEND_WORDS = ["send", "senden", "absenden", "envoyer", "enviar", "verzenden", "versturen"];
const FORMAT_CHARS = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const EMAIL = /[^\s<>()[\],;:"'\\]+@[^\s<>()[\],;:"'\\]+\.[^\s<>()[\],;:"'\\]+/g;
const CHIP_ATTRS = ["data-address", "data-email", "email", "data-hovercard-id", "title", "aria-label"];
const CHIP_SELECTOR = CHIP_ATTRS.map((a) => `[${a}*="@"]`).join(",");
const FIELD_SELECTOR = 'input, textarea, [contenteditable], [role="textbox"], [role="combobox"], [role="listbox"]';
const EDITABLE = 'input:not([type]), input[type="text"], input[type="email"], input[type="search"], textarea, [contenteditable="true"], [contenteditable=""]';
const CONTROL_SELECTOR = 'button, [role="button"], input[type="submit"], input[type="button"], a[href]';
const TEXT_TYPES = ["", "text", "email", "search", "textarea"];
/** The elements mistype adds to a page: never read as fields, chips or controls. */
const OURS = ".mistype-notes, .mistype-dialog, .mistype-live, .mistype-overlay";

const clean = (s) => (s || "").replace(FORMAT_CHARS, "").replace(/\s+/g, " ").trim();
const ours = (node) => !!(node && node.closest && node.closest(OURS));

/** The last address written in `text` (an attribute or a chip's text), or null. */
function emailIn(text) {
  const all = clean(text).match(EMAIL);
  return all ? all[all.length - 1].replace(/[.>]+$/, "") : null;
}

/** Text of `node`'s subtree, leaving out `skip` (the control inside a wrapping label). */
function textWithout(node, skip) {
  let out = "";
  const walk = (n) => {
    if (n === skip) return;
    if (n.nodeType === 3) out += n.data;
    else if (n.nodeType === 1 && !ours(n)) for (const c of n.childNodes) walk(c);
  };
  walk(node);
  return clean(out);
}

function byIds(node, attr) {
  const ids = clean(node.getAttribute(attr));
  if (!ids) return "";
  const root = node.getRootNode ? node.getRootNode() : node.ownerDocument;
  return clean(
    ids
      .split(" ")
      .map((id) => (root.getElementById ? root.getElementById(id) : null))
      .filter(Boolean)
      .map((e) => textWithout(e, null))
      .join(" "),
  );
}

/** A short label-like element before `node` in its row: `<label>To</label> <input>`, `<th>To</th><td>…`. */
function siblingLabel(node) {
  let e = node;
  for (let depth = 0; e && depth < 3; depth++, e = e.parentElement) {
    const prev = e.previousElementSibling;
    if (prev && /^(LABEL|SPAN|DIV|TH|TD|DT|B|STRONG)$/.test(prev.tagName) && !prev.querySelector(FIELD_SELECTOR)) {
      const t = textWithout(prev, null);
      if (t && t.length <= 24) return t;
    }
    if (e.parentElement && e.parentElement.children.length > 6) break;
  }
  return "";
}

/**
 * The accessible name of `node` (the parts of the accname rules webmail uses: aria-labelledby,
 * aria-label, labels, title, placeholder), or of a control (its text or value).
 */
export function accessibleName(node) {
  const named = byIds(node, "aria-labelledby") || clean(node.getAttribute("aria-label"));
  if (named) return named;
  if (node.labels && node.labels.length) {
    const t = clean([...node.labels].map((l) => textWithout(l, node)).join(" "));
    if (t) return t;
  }
  if (node.matches(CONTROL_SELECTOR)) {
    const t = node.tagName === "INPUT" ? clean(node.value) : textWithout(node, null);
    if (t) return t;
  }
  return clean(node.getAttribute("title")) || clean(node.getAttribute("placeholder"));
}

/** "To", "To recipients", "Cc:", "An" -> "to"; else null. */
function recipientKind(name) {
  const n = clean(name).toLowerCase().replace(/\s*:$/, "").replace(/\s+(recipients?|field|addresses|address)$/, "");
  for (const [kind, words] of Object.entries(RECIPIENT_WORDS)) if (words.includes(n)) return kind;
  return null;
}

const SEND_START = new RegExp(`^[\\s\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]*(${SEND_WORDS.join("|")})\\b`, "i");

/** Cheap first look: could this control be named Send? (Most of a webmail's buttons are not.) */
function maybeSend(node) {
  if (node.hasAttribute("aria-labelledby")) return true;
  const t =
    node.getAttribute("aria-label") ||
    (node.tagName === "INPUT" ? node.value : node.textContent) ||
    node.getAttribute("title") ||
    node.getAttribute("data-tooltip") ||
    "";
  return t.length < 80 && SEND_START.test(t);
}

/** Whether `node` is a control whose accessible name means Send. */
function isSendControl(node) {
  if (!node.matches || !node.matches(CONTROL_SELECTOR) || !maybeSend(node) || ours(node)) return false;
  const name = clean(accessibleName(node) || node.getAttribute("data-tooltip")).toLowerCase();
  return SEND_WORDS.includes(name.replace(/\s*\(.*\)$/, "").replace(/[.…]+$/, ""));
}

/** The Send control an event is about (the target or an ancestor close to it), or null. */
function sendControlOf(target) {
  for (let e = target, i = 0; e && e.nodeType === 1 && i < 6; e = e.parentElement, i++) {
    if (isSendControl(e)) return e;
  }
  return null;
}

const isRendered = (node) => node.isConnected && node.getClientRects().length > 0;
/** Controls whose Enter the browser turns into a click (caught as one). */
const isNativeButton = (node) => node.tagName === "BUTTON" || node.tagName === "INPUT" || node.tagName === "A";

/** Where typing happens in a candidate: itself, or the editable element inside a role wrapper. */
function editableOf(node) {
  if (node.tagName === "INPUT" || node.tagName === "TEXTAREA" || node.isContentEditable) return node;
  const inside = node.querySelector(EDITABLE);
  if (inside || node.getAttribute("role") !== "listbox" || !node.parentElement) return inside;
  // A listbox of chips named To, typed into by the input beside it.
  for (const c of node.parentElement.children) {
    if (c === node) continue;
    const e = c.matches(EDITABLE) ? c : c.querySelector(EDITABLE);
    if (e) return e;
  }
  return null;
}

/** A listbox that is a combobox's popup (suggestions), not a field. */
function isPopup(node) {
  if (node.getAttribute("role") !== "listbox" || !node.id) return false;
  const id = CSS.escape(node.id);
  return !!(node.ownerDocument || document).querySelector(`[aria-controls~="${id}"], [aria-owns~="${id}"]`);
}

/** The element holding a field's chips: a contenteditable host itself, else the row around the input. */
function groupOf(typing, node = typing) {
  if (typing.isContentEditable) return typing;
  const mine = (x) => [typing, node].some((n) => x === n || n.contains(x) || x.contains(n));
  let group = typing;
  for (let e = typing.parentElement, i = 0; e && i < 3; e = e.parentElement, i++) {
    if (e.tagName === "FORM" || e.tagName === "BODY") break;
    if ([...e.querySelectorAll(FIELD_SELECTOR)].some((x) => !mine(x))) break;
    group = e;
  }
  return group.contains(node) ? group : node;
}

/** A chip's address: its first attribute with one, else its text. */
function chipAddress(chip) {
  for (const a of CHIP_ATTRS) {
    const v = chip.getAttribute(a);
    if (v && v.includes("@")) {
      const m = emailIn(v);
      if (m) return m;
    }
  }
  return emailIn(chip.textContent);
}

/** The chips of a field: the outermost elements of its group that carry an address. */
function chipsOf(group, typing) {
  const popup = (id) => (id ? (group.ownerDocument || document).getElementById(id) : null);
  const popups = ["aria-controls", "aria-owns"].map((a) => popup(clean(typing.getAttribute(a)))).filter(Boolean);
  const found = [...group.querySelectorAll(CHIP_SELECTOR)];
  if (typing.isContentEditable) found.push(...group.querySelectorAll('[contenteditable="false"]'));
  const chips = [...new Set(found)].filter(
    (c) => c !== typing && !c.contains(typing) && !ours(c) && !popups.some((p) => p.contains(c)) && !c.closest("[hidden]"),
  );
  return chips.filter((c) => !chips.some((o) => o !== c && o.contains(c)));
}

/** Text nodes typed into a contenteditable host, outside its chips, with their offsets. */
function typedNodes(host, chips) {
  const out = [];
  let pos = 0;
  const walk = (n) => {
    if (n.nodeType === 3) {
      out.push({ node: n, start: pos });
      pos += n.data.length;
    } else if (n.nodeType === 1 && !chips.includes(n) && !ours(n)) for (const c of n.childNodes) walk(c);
  };
  walk(host);
  return { nodes: out, text: out.map((x) => x.node.data).join("") };
}

/** Insert text where the selection is, as typing would (input events the page's framework sees). */
function typeText(doc, node, text) {
  let done = false;
  try {
    done = doc.execCommand("insertText", false, text);
  } catch {
    done = false;
  }
  if (done) return true;
  if ("value" in node && typeof node.selectionStart === "number") {
    const v = node.value;
    node.value = v.slice(0, node.selectionStart) + text + v.slice(node.selectionEnd);
    node.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: text }));
    node.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }
  return false;
}

function keyEvent(type, init) {
  return new KeyboardEvent(type, { bubbles: true, cancelable: true, composed: true, ...init });
}

/** A click as a pointer makes it: the page may act on pointerdown, mousedown, mouseup or click. */
function clickLikeAUser(node) {
  const view = node.ownerDocument.defaultView;
  const init = { bubbles: true, cancelable: true, composed: true, view, button: 0 };
  const Pointer = typeof PointerEvent === "function" ? PointerEvent : MouseEvent;
  node.dispatchEvent(new Pointer("pointerdown", { ...init, isPrimary: true, pointerType: "mouse" }));
  node.dispatchEvent(new MouseEvent("mousedown", init));
  node.dispatchEvent(new Pointer("pointerup", { ...init, isPrimary: true, pointerType: "mouse" }));
  node.dispatchEvent(new MouseEvent("mouseup", init));
  node.dispatchEvent(new MouseEvent("click", init));
}

/**
 * Removes a chip the way a user does: its remove control, else (when the chip takes focus, so
 * that the keys are about it) Backspace/Delete on it. Done only when exactly that address went
 * away and every other chip stayed: a widget that re-renders or removes another chip is reported,
 * not typed into.
 */
function removeChip(chip, addresses) {
  const before = addresses();
  const at = before.indexOf((chipAddress(chip) || "").toLowerCase());
  if (at < 0) return false;
  const rest = [...before.slice(0, at), ...before.slice(at + 1)];
  const removed = () => {
    const after = addresses();
    return after.length === rest.length && after.every((a, i) => a === rest[i]);
  };
  const remove = [...chip.querySelectorAll(CONTROL_SELECTOR + ", [aria-label], [title]")].find((e) =>
    /^(remove|delete|entfernen|supprimer|eliminar|quitar)\b/i.test(clean(e.getAttribute("aria-label") || e.getAttribute("title") || e.textContent)),
  );
  if (remove) clickLikeAUser(remove);
  else if (chip.tabIndex >= 0) {
    chip.focus();
    for (const key of ["Backspace", "Delete"]) {
      if (!chip.isConnected) break;
      chip.dispatchEvent(keyEvent("keydown", { key, code: key }));
      chip.dispatchEvent(keyEvent("keyup", { key, code: key }));
    }
  }
  return removed();
}

function accessibleField(node, key, label) {
  // A listbox of chips with nowhere to type is read, and its chips can be reported, not fixed.
  const typing = editableOf(node) || node;
  const doc = typing.ownerDocument;
  const host = typing.isContentEditable ? typing : null;
  const group = groupOf(typing, node);
  const chips = () => chipsOf(group, typing);
  const typed = () => (host ? typedNodes(host, chips()).text : typeof typing.value === "string" ? typing.value : "");
  const canType = !!host || typeof typing.setSelectionRange === "function";
  /** Select `start..end` of the typed text (the caret at the end when both are null). */
  function select(start, end) {
    typing.focus();
    if (!host) {
      const at = start === null ? typing.value.length : start;
      typing.setSelectionRange(at, end === null ? at : end);
      return;
    }
    const { nodes } = typedNodes(host, chips());
    const range = doc.createRange();
    const point = (offset, atEnd) => {
      for (const x of nodes) {
        if (offset < x.start + x.node.data.length || (atEnd && offset === x.start + x.node.data.length)) {
          return [x.node, offset - x.start];
        }
      }
      return null;
    };
    const a = start === null ? null : point(start, false);
    const b = end === null ? null : point(end, true);
    if (a && b) {
      range.setStart(a[0], a[1]);
      range.setEnd(b[0], b[1]);
    } else {
      range.selectNodeContents(host);
      range.collapse(false);
    }
    const sel = doc.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  return {
    key,
    label,
    node: typing,
    group,
    overlay: true,
    focusNode: () => typing,
    entries() {
      const out = chips()
        .map((chip) => ({ value: chipAddress(chip), chip }))
        .filter((e) => e.value);
      for (const e of splitRecipients(typed())) out.push({ ...e, chip: null, typed: true });
      return out;
    },
    replace(entry, fixed) {
      if (!canType) return false;
      // The widget may have re-rendered since the lint (its chips are new elements) or turned
      // typed text into a chip (when the field lost focus): find the entry as it is now.
      const text = typed();
      let at = !entry.chip && text.slice(entry.start, entry.end) === entry.value ? entry.start : -1;
      if (at < 0 && !entry.chip) at = text.indexOf(entry.value);
      let chip = entry.chip && entry.chip.isConnected ? entry.chip : null;
      if (!chip && at < 0) {
        const address = (addressOf(entry.value) || entry.value).toLowerCase();
        chip = chips().find((c) => (chipAddress(c) || "").toLowerCase() === address) || null;
      }
      if (chip) {
        // A chip widget: remove the chip and type the fix, as a user would (before any text
        // still being typed, which the widget then reads after it).
        const addresses = () => chips().map((c) => (chipAddress(c) || "").toLowerCase());
        if (!removeChip(chip, addresses)) return false;
        if (typed().trim()) select(0, 0);
        else select(null, null);
        return typeText(doc, typing, `${fixed}, `);
      }
      if (at < 0) return false;
      select(at, at + entry.value.length);
      return typeText(doc, typing, fixed);
    },
    watch(onInput, onChange) {
      const blur = () => onChange("blur");
      const mo = new MutationObserver(() => onInput());
      mo.observe(group, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: CHIP_ATTRS });
      group.addEventListener("input", onInput);
      group.addEventListener("change", onChange);
      typing.addEventListener("blur", blur);
      return () => {
        mo.disconnect();
        group.removeEventListener("input", onInput);
        group.removeEventListener("change", onChange);
        typing.removeEventListener("blur", blur);
      };
    },
  };
}

/**
 * Any other site: recipient fields by role and accessible name (see above), with their chips; a
 * send is stopped in the capture phase however it is made: a form's submit, a click (pointer or
 * keyboard) on a control whose accessible name means Send, Enter/Space on a scripted Send
 * control, Ctrl/Cmd+Enter in the compose window.
 */
export const genericAdapter = {
  name: "generic",
  match: (root) => genericAdapter.candidates(root).length > 0,
  candidates(root) {
    const out = [];
    for (const node of root.querySelectorAll(FIELD_SELECTOR)) {
      if (node.tagName === "INPUT" && !TEXT_TYPES.includes(node.type)) continue;
      if (node.disabled || ours(node) || !isRendered(node)) continue;
      const listbox = node.getAttribute("role") === "listbox";
      if (node.tagName !== "INPUT" && node.tagName !== "TEXTAREA") {
        // A contenteditable host (not the chips inside it), a role wrapper around an editable, or
        // a listbox of chips (not a combobox's suggestions).
        if (node.isContentEditable && node.parentElement && node.parentElement.isContentEditable) continue;
        if (listbox ? isPopup(node) : !editableOf(node)) continue;
      }
      if (out.some((o) => o.contains(node) || node.contains(o))) continue;
      if (!genericAdapter.kindOf(node)) continue;
      // One field per place of typing: a named listbox and its named input are one field.
      const typing = editableOf(node);
      if (typing && out.some((o) => editableOf(o) === typing)) continue;
      out.push(node);
    }
    return out;
  },
  /** "to", "cc", "bcc", or another key when only the name or id says recipient; null: not a recipient field. */
  kindOf(node) {
    const kind = recipientKind(accessibleName(node)) || recipientKind(siblingLabel(node));
    if (kind) return kind;
    const names = [node.name, node.id, node.getAttribute("data-mistype-field")];
    const hint = names.find((n) => n && GENERIC_HINT.test(n.trim()));
    if (hint) return hint.replace(/^_/, "").replace(/\[\]$/, "").toLowerCase();
    if (node.tagName === "INPUT" && node.type === "email" && node.multiple) return (node.name || node.id || "to").toLowerCase();
    return null;
  },
  fields(root, opts) {
    const taken = new Set();
    return genericAdapter.candidates(root).map((node, i) => {
      const kind = genericAdapter.kindOf(node);
      const base = ["to", "cc", "bcc"].includes(kind) ? kind : (node.name || node.id || kind || "").replace(/^_/, "").toLowerCase();
      const key = uniqueKey(base, taken, i);
      taken.add(key);
      const label = opts.labels[kind] || opts.labels[key] || key;
      return accessibleField(node, key, label);
    });
  },
  // The sender, where the page has a form control named `from` (as the plain adapter reads it).
  from: plainAdapter.from,
  fromNode: plainAdapter.fromNode,
  /** The Send controls of the page (document order). */
  sendControls(root) {
    return [...root.querySelectorAll(CONTROL_SELECTOR)].filter(isSendControl);
  },
  /**
   * Whether a send of the compose window holding `node` can be stopped: a form, or a Send control
   * around it. `cache` (one object per render) keeps the page's Send controls for every field.
   */
  canStop(root, node, fieldNodes, cache = {}) {
    if (node.form) return true;
    cache.controls = cache.controls || genericAdapter.sendControls(root);
    const scopeOf = scoper(fieldNodes, () => cache.controls);
    return cache.controls.some((c) => {
      const s = scopeOf(c);
      return !!s && s.contains(node);
    });
  },
  hookSend(root, ask, ctx = {}) {
    const doc = root.ownerDocument || root;
    const win = doc.defaultView;
    const listen = ctx.listen || ((type, fn) => {
      win.addEventListener(type, fn, true);
      return () => win.removeEventListener(type, fn, true);
    });
    const fieldNodes = ctx.fieldNodes || (() => genericAdapter.candidates(doc));
    const scopeOf = scoper(fieldNodes);
    const stop = (e) => {
      e.preventDefault();
      e.stopImmediatePropagation();
    };
    // One pointer gesture on a Send control is decided once, at its first event, and every event
    // of it is stopped when the user is asked (a page may send on pointerdown, mouseup or click).
    let gesture = null;
    const onPointer = (e) => {
      if (ours(e.target)) return;
      const control = sendControlOf(e.target);
      if (e.type === "pointerdown" || (!gesture && (e.type === "mousedown" || e.type === "click"))) {
        gesture = null;
        if (!control) return;
        const scope = scopeOf(control);
        if (!scope) return;
        const resend = () => clickLikeAUser(control);
        gesture = { control, asked: ask({ scope, resend, check: true }) === false, scope, resend };
      }
      if (!gesture || gesture.control !== control) return;
      if (gesture.asked) {
        stop(e);
        // At the click, ask; if nothing is left to ask about (fixed meanwhile), the page gets
        // the press it was denied.
        if (e.type === "click" && ask({ scope: gesture.scope, resend: gesture.resend }) !== false) gesture.resend();
      }
      if (e.type === "click") gesture = null;
    };
    const onKey = (e) => {
      if (ours(e.target) || (e.key !== "Enter" && e.key !== " ")) return;
      const shortcut = e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey;
      const control = !shortcut && !e.ctrlKey && !e.metaKey && !e.altKey ? sendControlOf(e.target) : null;
      if (!shortcut && (!control || isNativeButton(control))) return; // a native button's key makes a click
      const scope = scopeOf(control || e.target);
      if (!scope) return;
      const target = e.target;
      const init = { key: e.key, code: e.code, ctrlKey: e.ctrlKey, metaKey: e.metaKey, shiftKey: e.shiftKey };
      const resend = () => {
        const to = target.isConnected ? target : genericAdapter.sendControls(scope)[0];
        if (!to) return;
        if (to !== target) return clickLikeAUser(to);
        to.dispatchEvent(keyEvent("keydown", init));
        to.dispatchEvent(keyEvent("keyup", init));
      };
      if (ask({ scope, resend }) === false) stop(e);
    };
    const onSubmit = (e) => {
      const form = e.target;
      if (ours(form) || !fieldNodes().some((n) => form.contains(n))) return;
      const submitter = e.submitter && e.submitter.isConnected ? e.submitter : null;
      const resend = () => (typeof form.requestSubmit === "function" ? form.requestSubmit(submitter) : form.submit());
      if (ask({ scope: form, resend }) === false) stop(e);
    };
    const off = [
      ...["pointerdown", "mousedown", "pointerup", "mouseup", "click"].map((t) => listen(t, onPointer)),
      listen("keydown", onKey),
      listen("submit", onSubmit),
    ];
    return () => off.forEach((u) => u());
  },
  resend(root) {
    const doc = root.ownerDocument || root;
    const f = genericAdapter.candidates(doc).map((n) => n.form).find(Boolean);
    if (f) plainAdapter.resend(f);
    else {
      const c = genericAdapter.sendControls(doc)[0];
      if (c) clickLikeAUser(c);
    }
  },
};

/**
 * The compose window of a node (a Send control, a field, the message body): its nearest ancestor
 * that holds a recipient field and a Send control (the whole page when it has no Send control).
 * Several compose windows on one page are told apart this way.
 */
function scoper(fieldNodes, sendControls = null) {
  return (node) => {
    const nodes = fieldNodes();
    if (!node || nodes.length === 0) return null;
    const top = node.ownerDocument.documentElement;
    let controls = null;
    for (let e = node; e; e = e.parentElement) {
      if (!nodes.some((n) => e.contains(n))) continue;
      if (e === top) return e;
      controls = controls || (sendControls ? sendControls() : genericAdapter.sendControls(node.ownerDocument));
      if (controls.some((c) => e.contains(c))) return e;
    }
    return null;
  };
}

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
  const win = doc.defaultView;
  const opts = { ...DEFAULTS, ...options, labels: { ...DEFAULTS.labels, ...(options.labels || {}) } };
  const adapter =
    typeof opts.adapter === "string" ? adapters[opts.adapter] : opts.adapter || plainAdapter;
  if (!adapter) throw new Error(`attachCompose: unknown adapter ${JSON.stringify(opts.adapter)}`);
  // Where the live region and the dialog go (never `form.body`: a form names its controls).
  const host = root.nodeType === 9 ? root.body : root;
  const id = `mistype-${++uid}`;
  let current = linter;
  let timer = null;
  // > 0 while a confirmed send is re-issued: the send hooks let exactly that send through.
  let passing = 0;
  // skipNextCheck(): the next send goes without asking (confirmed elsewhere).
  let skipOnce = false;
  let lastAnnounced = "";
  /** field key -> [{entry, finding}] */
  let results = new Map();
  const unwatch = [];
  const report = (e) => {
    if (typeof opts.onError === "function") opts.onError(e);
    else if (typeof console !== "undefined") console.error("mistype:", e);
  };
  const safe = (fn) => (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      report(e);
      return undefined;
    }
  };

  // Notes of adapters that draw over the page (`overlay`) live in one layer at the end of the
  // body, positioned under their field: nothing is inserted into the page's own layout.
  let overlay = null;
  function overlayLayer() {
    if (!overlay) {
      overlay = el(doc, "div", { class: "mistype-overlay" });
      (doc.body || doc.documentElement).append(overlay);
    }
    return overlay;
  }

  const fields = adapter.fields(root, opts).map((f) => {
    const notes = el(doc, "div", {
      class: "mistype-notes",
      id: `${id}-${f.key}-notes`,
      "data-mistype-for": f.key,
    });
    // Pressing a note's button leaves the focus in the field: many webmails turn typed text
    // into a chip (or otherwise rewrite it) when the field loses focus.
    if (f.overlay) {
      notes.addEventListener("mousedown", (e) => {
        if (e.target.closest && e.target.closest("button")) e.preventDefault();
      });
    }
    if (f.overlay) {
      notes.hidden = true;
      overlayLayer().append(notes);
    } else {
      f.placeNotes(notes);
    }
    const described = f.node.getAttribute("aria-describedby");
    f.node.setAttribute("aria-describedby", `${described ? described + " " : ""}${notes.id}`);
    return { ...f, notes, described };
  });
  const fieldNodes = () => fields.map((f) => f.node);
  /** Whether this page's send can be stopped for the field (else a note never says "Blocked"). */
  let stopCache = {};
  const canStop = (f) => !adapter.canStop || adapter.canStop(doc, f.node, fieldNodes, stopCache);

  /**
   * Draws the overlay notes under their fields (or hides them when the field is not shown). A
   * note lets clicks on its text through to the page, and fades while the user works in what it
   * covers (the next row, usually).
   */
  function place() {
    const active = doc.activeElement;
    for (const f of fields) {
      if (!f.overlay) continue;
      const anchor = f.group || f.node;
      const r = anchor.isConnected ? anchor.getBoundingClientRect() : null;
      const show = !!r && (r.width > 0 || r.height > 0) && f.notes.childElementCount > 0;
      f.notes.hidden = !show;
      if (!show) continue;
      f.notes.style.cssText =
        `position:fixed;z-index:2147483646;margin:0;pointer-events:none;left:${Math.round(r.left)}px;` +
        `top:${Math.round(r.bottom + 2)}px;width:${Math.round(Math.max(r.width, 280))}px`;
      if (active && active !== doc.body && !anchor.contains(active) && !f.notes.contains(active)) {
        const a = active.getBoundingClientRect();
        const n = f.notes.getBoundingClientRect();
        const covers = a.left < n.right && n.left < a.right && a.top < n.bottom && n.top < a.bottom;
        if (covers) f.notes.style.opacity = "0.25";
      }
    }
  }
  let placing = 0;
  const placeSoon = () => {
    if (placing || !win) return;
    placing = win.requestAnimationFrame(() => {
      placing = 0;
      safe(place)();
    });
  };
  if (overlay && win) {
    const onMove = () => placeSoon();
    win.addEventListener("scroll", onMove, { capture: true, passive: true });
    win.addEventListener("resize", onMove, { passive: true });
    doc.addEventListener("focusin", onMove, true);
    const ro = typeof win.ResizeObserver === "function" ? new win.ResizeObserver(onMove) : null;
    if (ro) for (const f of fields) if (f.overlay) ro.observe(f.group || f.node);
    unwatch.push(() => {
      win.removeEventListener("scroll", onMove, { capture: true });
      win.removeEventListener("resize", onMove);
      doc.removeEventListener("focusin", onMove, true);
      if (ro) ro.disconnect();
      if (placing) win.cancelAnimationFrame(placing);
    });
    // Keyboard: Tab from the field reaches its note, as if the note followed the field.
    for (const f of fields) {
      if (!f.overlay) continue;
      const onKey = (e) => {
        if (e.key !== "Tab" || e.shiftKey || e.defaultPrevented || f.notes.hidden) return;
        const first = f.notes.querySelector("button");
        if (!first) return;
        e.preventDefault();
        first.focus();
      };
      const onNotesKey = (e) => {
        const buttons = [...f.notes.querySelectorAll("button")];
        const back = e.key === "Escape" || (e.key === "Tab" && e.shiftKey && e.target === buttons[0]);
        if (back) {
          e.preventDefault();
          f.node.focus();
        } else if (e.key === "Tab" && !e.shiftKey && e.target === buttons[buttons.length - 1]) {
          const next = nextTabbable(doc, f.group || f.node);
          if (next) {
            e.preventDefault();
            next.focus();
          }
        }
      };
      f.node.addEventListener("keydown", onKey);
      f.notes.addEventListener("keydown", onNotesKey);
      unwatch.push(() => f.node.removeEventListener("keydown", onKey));
    }
  }

  const live = el(doc, "div", {
    class: "mistype-live",
    "aria-live": "polite",
    role: "status",
    style: VISUALLY_HIDDEN,
  });
  host.append(live);

  // The question before a send: a native modal <dialog> (focus stays in it; Escape closes it).
  // The safe action, "Go back and fix", has the focus, so Enter and Escape never send; the fix
  // itself is offered as an action; "Send anyway" takes a deliberate click or Tab + Enter.
  const dialogTitle = el(doc, "h2", { id: `${id}-dialog-title`, text: "Send to a blocked address?" });
  const dialogBody = el(doc, "div", { id: `${id}-dialog-body`, class: "mistype-dialog-body" });
  const cancelBtn = el(doc, "button", { type: "button", class: "mistype-dialog-cancel", autofocus: true, text: "Go back and fix" });
  const fixSendBtn = el(doc, "button", { type: "button", class: "mistype-dialog-fix", text: "" });
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
    [dialogTitle, dialogBody, el(doc, "div", { class: "mistype-dialog-actions" }, [cancelBtn, fixSendBtn, confirmBtn])],
  );
  host.append(dialog);
  /** The open question's answers: {cancel, fix, send}. */
  let pending = null;

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
    const done = f.replace(entry, fixed, finding) !== false;
    lintNow();
    live.textContent = done
      ? `${f.label}: changed to ${fixed}.`
      : `${f.label}: ${entry.value} could not be changed here; remove it and type ${fixed}.`;
    lastAnnounced = announceKey();
    const target = f.focusNode ? f.focusNode() : f.node;
    if (target && target.focus) target.focus();
    if (done && typeof opts.onFix === "function") opts.onFix({ field: f.key, entry: entry.value, fixed, finding });
    return done;
  }

  function renderField(f, found) {
    // Leave the DOM alone when nothing changed: a re-render on blur/change would swallow the
    // click that caused the blur and lose keyboard focus and opened explanations.
    const stoppable = canStop(f);
    const key =
      `${stoppable}\n` +
      found
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
        style: f.overlay ? "pointer-events:auto" : null,
        class: "mistype-why",
        "aria-expanded": "false",
        "aria-controls": reasonId,
        text: "Why?",
      });
      why.addEventListener("click", () => {
        const open = why.getAttribute("aria-expanded") !== "true";
        why.setAttribute("aria-expanded", String(open));
        reason.hidden = !open;
        placeSoon();
      });
      // "Blocked" only where the send can be stopped: a badge that says blocked on a send that
      // goes through unasked is worse than none.
      const parts = [
        el(doc, "strong", { class: "mistype-badge", text: block && stoppable ? "Blocked" : "Check" }),
        " ",
      ];
      if (finding.suggestion) {
        const fixBtn = el(doc, "button", {
          type: "button",
          style: f.overlay ? "pointer-events:auto" : null,
          class: "mistype-fix",
          "aria-label": `Change ${finding.address} to ${finding.suggestion}`,
          text: finding.suggestion,
        });
        fixBtn.addEventListener("click", safe(() => fix(f, entry, finding)));
        parts.push(
          el(doc, "span", { class: "mistype-address", text: finding.address }),
          ": Did you mean ",
          fixBtn,
          "? ",
        );
      } else {
        parts.push(el(doc, "span", { class: "mistype-address", text: finding.address }), " looks wrong. ");
      }
      if (!stoppable) {
        parts.push(
          el(doc, "span", {
            class: "mistype-unstoppable",
            text: "mistype cannot stop this page's Send. ",
          }),
        );
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
      const f = fields.find((x) => x.key === k);
      for (const { finding } of list) {
        const label = (f && f.label) || opts.labels[k] || k;
        const sev = finding.severity === "block" && f && canStop(f) ? "Blocked" : "Warning";
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
    stopCache = {};
    for (const f of fields) renderField(f, results.get(f.key) || []);
    if (overlay) place();
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
    timer = setTimeout(safe(lintNow), opts.debounce);
  }

  /**
   * The adapter's before-send: true lets the send go on now; false means it was stopped and the
   * user is asked. `how`: `scope` (only the fields inside it count), `resend` (re-issues the
   * page's own send; default the adapter's), `check` (only say whether it would ask).
   */
  function ask(how = {}) {
    if (passing > 0) return true;
    if (skipOnce) {
      skipOnce = false;
      return true;
    }
    if (dialog.open) return false;
    lintNow();
    const block = (x) => x.finding.severity === "block";
    const stopOn = opts.askOn === "warn" ? (x) => block(x) || x.finding.score >= opts.askWarnScore : block;
    const asked = [];
    for (const f of fields) {
      if (how.scope && !how.scope.contains(f.node)) continue;
      for (const x of results.get(f.key) || []) if (stopOn(x)) asked.push({ f, ...x });
    }
    if (asked.length === 0) return true;
    if (how.check) return false;
    const resend = () => (how.resend ? how.resend() : adapter.resend(root));
    const proceed = safe(() => {
      passing++;
      try {
        if (typeof opts.onConfirm === "function") opts.onConfirm(state());
        resend();
      } finally {
        passing--;
      }
    });
    const cancel = safe(() => {
      const first = asked[0].f;
      const target = first.focusNode ? first.focusNode() : first.node;
      if (target && target.focus) target.focus();
    });
    // "Send to c@navy.mil instead": every asked recipient has one suggestion; the fixed send is
    // checked again like any other (it asks again if something is still wrong). A recipient
    // with two equally likely suggestions (a tie: army.ml for army.mil or army.nl) is the
    // user's to pick, with the fix buttons in the field's notes: no one-click fix then.
    const meant = new Map();
    for (const x of asked) {
      const k = `${x.f.key}\n${x.entry.value}`;
      if (!meant.has(k)) meant.set(k, { x, suggestions: new Set() });
      meant.get(k).suggestions.add(x.finding.suggestion);
    }
    const fixable = [...meant.values()].every(({ suggestions }) => suggestions.size === 1 && [...suggestions].every(Boolean));
    const fixThenSend = fixable
      ? safe(() => {
          for (const { x } of meant.values()) fix(x.f, x.entry, x.finding);
          setTimeout(safe(resend), 0);
        })
      : null;
    const publicAsked = asked.map(({ f, entry, finding }) => ({ field: f.key, entry: entry.value, finding }));
    if (typeof opts.confirm === "function") {
      opts.confirm(publicAsked, { proceed, cancel, fix: fixThenSend || undefined });
      return false;
    }
    const anyBlock = asked.some(block);
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
    const suggestions = [...new Set(asked.map((x) => x.finding.suggestion))];
    fixSendBtn.hidden = !fixThenSend;
    fixSendBtn.textContent =
      suggestions.length === 1 ? `Send to ${suggestions[0]} instead` : "Send to the suggested addresses instead";
    pending = { cancel, fix: fixThenSend, send: proceed };
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    cancelBtn.focus();
    return false;
  }

  function closeDialog() {
    if (typeof dialog.close === "function" && dialog.open) dialog.close();
    else dialog.removeAttribute("open");
  }
  /** The user's answer; a dialog closed any other way (Escape) is "go back". */
  function answer(choice) {
    const p = pending;
    pending = null;
    closeDialog();
    if (p && p[choice]) p[choice]();
  }
  cancelBtn.addEventListener("click", () => answer("cancel"));
  fixSendBtn.addEventListener("click", () => answer("fix"));
  confirmBtn.addEventListener("click", () => answer("send"));
  // A dialog closed any other way (Escape) is "go back". The close event comes as a task after
  // close(), and Chromium runs input first: a quick second Enter can open the next question
  // before the close event of the last one arrives, which must not close the new one.
  dialog.addEventListener("close", () => {
    if (pending && !dialog.open) answer("cancel");
  });
  // Keys pressed in the dialog are the dialog's: the page's own shortcuts (Ctrl+Enter sends in
  // most webmail) never see them. Their default actions (Enter on the focused button, Escape)
  // still happen.
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.preventDefault();
    e.stopPropagation();
  });

  for (const f of fields) {
    unwatch.push(
      f.watch(schedule, safe((why) => {
        // A blur lints only what is still waiting for the debounce; a change lints at once.
        if (why !== "blur" || timer) lintNow();
      })),
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
  const listen = opts.listen
    ? (type, fn) => opts.listen(type, safe(fn))
    : null;
  unwatch.push(adapter.hookSend(root, ask, { listen, fieldNodes }));
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
      skipOnce = true;
    },
    detach() {
      clearTimeout(timer);
      for (const u of unwatch) u();
      pending = null;
      closeDialog();
      for (const f of fields) {
        f.notes.remove();
        f.node.classList.remove("mistype-has-block", "mistype-has-warn");
        f.node.removeAttribute("aria-invalid");
        if (f.described) f.node.setAttribute("aria-describedby", f.described);
        else f.node.removeAttribute("aria-describedby");
      }
      if (overlay) overlay.remove();
      live.remove();
      dialog.remove();
    },
  };
}

/** The first element after `node` (outside it) that Tab would reach, or null. */
function nextTabbable(doc, node) {
  const all = doc.querySelectorAll('a[href], button, input, select, textarea, [tabindex], [contenteditable="true"], [contenteditable=""]');
  for (const e of all) {
    if (node.contains(e) || ours(e) || e.disabled || e.tabIndex < 0) continue;
    if (!(node.compareDocumentPosition(e) & 4)) continue; // DOCUMENT_POSITION_FOLLOWING
    if (e.getClientRects().length > 0) return e;
  }
  return null;
}
