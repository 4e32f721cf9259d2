// mistype in every webmail tab: finds the compose window's recipient fields (an adapter for
// Roundcube and the demo page, generic detection elsewhere), runs the mistype WebAssembly module
// locally (nothing leaves the browser), and warns before a misaddressed message is sent.
(() => {
  "use strict";
  const html = document.documentElement;
  const url = (p) => chrome.runtime.getURL(p);
  let composeMod = null;
  let webMod = null;
  let controller = null;
  let attachedNodes = [];
  let settings = null;

  const status = (s) => html.setAttribute("data-mistype-extension", s);

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
  let adapterInUse = null;

  async function tryAttach() {
    if (controller) {
      // Still the same widgets: nothing to do. Else the compose window went away or was rebuilt
      // (a single-page webmail, a widget that replaced its field): start over.
      const now = adapterInUse.fields(document, FIELD_OPTIONS).map((f) => f.node);
      if (now.length === attachedNodes.length && now.every((n, i) => n === attachedNodes[i])) return;
      controller.detach();
      controller = null;
    }
    // The mistype Roundcube plugin checks this page (unless it failed to start).
    const plugin = html.getAttribute("data-mistype");
    if (plugin !== null && plugin !== "failed") return status("plugin");
    settings = settings || (await globalThis.mistypeSettings());
    if (!settings.enabled) return status("off");
    const compose = await loadCompose();
    const adapter = compose.detectAdapter(document);
    if (!adapter) return status("idle");
    const fields = adapter.fields(document, FIELD_OPTIONS);
    if (fields.length === 0) return status("idle");
    const web = await loadWeb();
    if (controller) return;
    controller = compose.attachCompose(document, linterFor(web, settings.policy), {
      adapter,
      askOn: settings.ask_on,
    });
    attachedNodes = fields.map((f) => f.node);
    adapterInUse = adapter;
    status(`attached:${adapter.name}`);
  }

  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => tryAttach().catch(report), 300);
  };
  function report(e) {
    status("failed");
    html.setAttribute("data-mistype-error", String((e && e.message) || e));
  }

  chrome.storage.onChanged.addListener(async () => {
    settings = await globalThis.mistypeSettings();
    if (controller && webMod) controller.setLinter(linterFor(webMod, settings.policy));
    else soon();
  });

  new MutationObserver(soon).observe(document.documentElement, { childList: true, subtree: true });
  tryAttach().catch(report);
})();
