// The compose code of a made-up webmail: what the extension has to work with, not part of
// mistype. It models the public structure of the big webmails' compose windows (their DOM and
// ARIA as anyone can read them in the browser's inspector), never their code:
// - recipients kept in the page's own model (`window.model`), shown as chips;
// - typed text becomes a chip at a comma, a semicolon, Enter or when the field loses focus;
// - a chip goes away with its remove control or Backspace/Delete;
// - Send is a script (a click, Enter/Space on a focused role=button, Ctrl/Cmd+Enter), which
//   turns what is still typed into recipients and posts the message to the page server's sink
//   (/deliveries), then says "Message sent".
export const model = (window.model = { to: [], cc: [], bcc: [], sends: 0 });

/** "Name <a@b>, c@d" -> ["a@b", "c@d"] (the page keeps addresses only). */
export function parse(text) {
  return text
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /<([^<>]+)>\s*$/.exec(s);
      return (m ? m[1] : s).trim();
    });
}

/** Gmail-like: a contenteditable host holding chips (contenteditable=false) and the typed text. */
export function chipEditable(host, list) {
  const typedNodes = () => [...host.childNodes].filter((n) => n.nodeType === 3);
  const typed = () => typedNodes().map((n) => n.data).join("");
  function render() {
    const text = typedNodes();
    host.replaceChildren(
      ...list.map((address) => {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.contentEditable = "false";
        chip.setAttribute("email", address);
        chip.setAttribute("data-hovercard-id", address);
        chip.textContent = address;
        const x = document.createElement("span");
        x.className = "remove";
        x.setAttribute("role", "button");
        x.setAttribute("aria-label", `Remove ${address}`);
        x.textContent = "×";
        x.addEventListener("click", () => {
          list.splice(list.indexOf(address), 1);
          render();
        });
        chip.append(x);
        return chip;
      }),
      ...text,
    );
  }
  function commit() {
    const text = typed();
    if (!text.trim()) return;
    for (const n of typedNodes()) n.remove();
    list.push(...parse(text));
    render();
    if (document.activeElement === host) {
      const r = document.createRange();
      r.selectNodeContents(host);
      r.collapse(false);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
    }
  }
  host.addEventListener("input", () => {
    if (/[,;]/.test(typed())) commit();
  });
  host.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      commit();
    } else if (e.key === "Backspace" && !typed() && list.length) {
      list.pop();
      render();
    }
  });
  host.addEventListener("blur", commit);
  return { commit };
}

/**
 * Outlook-on-the-web-like: a combobox input after its chips, or beside a listbox of them (`role`
 * "option"); chips removed with Backspace/Delete.
 */
export function comboChips(input, well, list, role = "button") {
  function render() {
    for (const c of well.querySelectorAll(".persona")) c.remove();
    for (const address of list) {
      const chip = document.createElement("span");
      chip.className = "persona";
      chip.tabIndex = 0;
      chip.setAttribute("role", role);
      chip.title = address;
      chip.textContent = address.split("@")[0];
      chip.addEventListener("keydown", (e) => {
        if (e.key === "Backspace" || e.key === "Delete") {
          e.preventDefault();
          list.splice(list.indexOf(address), 1);
          render();
          input.focus();
        }
      });
      if (well.contains(input)) well.insertBefore(chip, input);
      else well.append(chip);
    }
  }
  function commit() {
    if (!input.value.trim()) return;
    list.push(...parse(input.value));
    input.value = "";
    render();
  }
  input.addEventListener("input", () => {
    if (/[,;]/.test(input.value)) commit();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      commit();
    } else if (e.key === "Backspace" && !input.value && list.length) {
      list.pop();
      render();
    }
  });
  input.addEventListener("blur", commit);
  return { commit };
}

/** A plain input: its text is the recipient list. */
export function plainInput(input, list) {
  const commit = () => list.splice(0, list.length, ...parse(input.value));
  input.addEventListener("input", commit);
  return { commit };
}

/** Posts the message to the page server's sink, once per call; `status` shows the outcome. */
export async function deliver(page, widgets, extra, status) {
  for (const w of widgets) w.commit();
  model.sends += 1;
  const message = { page, to: [...model.to], cc: [...model.cc], bcc: [...model.bcc], ...extra };
  const res = await fetch("/deliveries", { method: "POST", body: JSON.stringify(message) });
  if (status) status.textContent = res.ok ? "Message sent" : `Not sent: ${res.status}`;
}

/** Send on click, on Enter/Space when the (non-native) control has focus, and on Ctrl/Cmd+Enter in `compose`. */
export function sendOn(control, compose, send) {
  control.addEventListener("click", send);
  if (control.tagName !== "BUTTON") {
    control.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        send();
      }
    });
  }
  compose.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      send();
    }
  });
}
