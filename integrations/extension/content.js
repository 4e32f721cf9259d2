// mistype in every webmail tab and frame: finds the compose window's recipient fields (an
// adapter for Roundcube and the demo page; elsewhere by role and accessible name, chips
// included), runs the mistype WebAssembly module locally (nothing leaves the browser), and warns
// before a misaddressed message is sent. Single-page webmail that opens its compose window later
// is followed with a MutationObserver whose work is bounded (see `soon`).
(() => {
  "use strict";
  const html = document.documentElement;
  const url = (p) => chrome.runtime.getURL(p);
  let composeMod = null;
  let webMod = null;
  let controller = null;
  let attachedNodes = [];
  let adapterInUse = null;
  let settings = null;

  const status = (s) => html.setAttribute("data-mistype-extension", s);
  function report(e) {
    html.setAttribute("data-mistype-error", String((e && e.message) || e));
  }

  async function loadCompose() {
    if (!composeMod) composeMod = await import(url("pkg/compose.js"));
    return composeMod;
  }

  async function loadWeb() {
    if (!webMod) {
      webMod = await import(url("pkg/mistype_web_lint.js"));
      await webMod.default({ module_or_path: url("pkg/mistype_web_lint_bg.wasm") });
    }
    return webMod;
  }

  function linterFor(web, policy) {
    try {
      html.removeAttribute("data-mistype-policy-error");
      return new web.Linter(policy || null);
    } catch (e) {
      // A bad policy is reported, and the embedded default policy keeps the check on.
      html.setAttribute("data-mistype-policy-error", String((e && e.message) || e));
      return new web.Linter();
    }
  }

  const FIELD_OPTIONS = { fields: ["to", "cc", "bcc"], labels: {} };

  function detach() {
    if (controller) controller.detach();
    controller = null;
    attachedNodes = [];
    adapterInUse = null;
  }

  let attaching = false;
  async function tryAttach() {
    if (attaching) return soon();
    attaching = true;
    try {
      await attach();
    } finally {
      attaching = false;
    }
  }

  async function attach() {
    // The mistype Roundcube plugin checks this page (unless it failed to start).
    const plugin = html.getAttribute("data-mistype");
    if (plugin !== null && plugin !== "failed") {
      detach();
      return status("plugin");
    }
    settings = settings || (await globalThis.mistypeSettings());
    if (!settings.enabled) {
      detach();
      return status("off");
    }
    const compose = await loadCompose();
    const adapter = compose.detectAdapter(document);
    const fields = adapter ? adapter.fields(document, FIELD_OPTIONS) : [];
    const nodes = fields.map((f) => f.node);
    // Still the same widgets: nothing to do. Else the compose window came, went or was rebuilt.
    if (controller && adapter === adapterInUse && nodes.length === attachedNodes.length && nodes.every((n, i) => n === attachedNodes[i])) return;
    detach();
    if (nodes.length === 0) return status("idle");
    const web = await loadWeb();
    controller = compose.attachCompose(document, linterFor(web, settings.policy), {
      adapter,
      askOn: settings.ask_on,
      listen: globalThis.mistypeListen,
      onError: report,
    });
    attachedNodes = nodes;
    adapterInUse = adapter;
    status(`attached:${adapter.name}`);
  }

  // Page changes are followed at most every 250 ms, and only those that can matter: elements that
  // take text added (a compose window opening), an attached field removed (one closing), a
  // name, role or visibility changed. Changes inside mistype's own notes and dialog, and the
  // rows and buttons a webmail adds all the time, cost one cheap test each.
  let timer = null;
  const soon = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      tryAttach().catch(report);
    }, 250);
  };
  const OURS = ".mistype-notes, .mistype-dialog, .mistype-live, .mistype-overlay";
  const ours = (n) => {
    const e = n && (n.nodeType === 1 ? n : n.parentElement);
    return !!(e && e.closest(OURS));
  };
  const TEXT_ENTRY =
    'textarea, [contenteditable], [role="textbox"], [role="combobox"], input:not([type]), input[type="text"], input[type="email"], input[type="search"]';
  const addsTextEntry = (n) => n.nodeType === 1 && !ours(n) && (n.matches(TEXT_ENTRY) || !!n.querySelector(TEXT_ENTRY));
  const matters = (r) => {
    if (ours(r.target)) return false;
    if (r.type === "attributes") return true;
    return [...r.addedNodes].some(addsTextEntry) || (r.removedNodes.length > 0 && attachedNodes.some((n) => !n.isConnected));
  };

  // Every setting applies to open tabs at once: the check is rebuilt with the new policy,
  // ask_on and enabled.
  chrome.storage.onChanged.addListener(() => {
    globalThis
      .mistypeSettings()
      .then((s) => {
        settings = s;
        detach();
        return tryAttach();
      })
      .catch(report);
  });

  new MutationObserver((records) => {
    if (records.some(matters)) soon();
  }).observe(html, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["hidden", "aria-hidden", "contenteditable", "role", "aria-label", "aria-labelledby"],
  });
  tryAttach().catch(report);
})();
