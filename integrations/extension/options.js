// The options page: an individual's policy and preferences (chrome.storage.local). A policy is
// checked by building a Linter with it before it is saved, so a bad one names its key here.
import init, { Linter, version } from "./pkg/mistype_web_lint.js";

const $ = (id) => document.getElementById(id);

async function main() {
  await init();
  $("version").textContent = version();
  const s = await globalThis.mistypeSettings();
  $("policy").value = s.policy || "";
  $("ask_on").value = s.ask_on;
  $("enabled").checked = s.enabled;
  if (s.managed.length > 0) {
    $("managed").hidden = false;
    for (const k of s.managed) {
      const el = $(k);
      if (el) el.disabled = true;
    }
  }
  $("options").addEventListener("submit", async (e) => {
    e.preventDefault();
    const policy = $("policy").value.trim();
    $("error").hidden = true;
    try {
      new Linter(policy || null).free();
    } catch (err) {
      $("error").textContent = `The policy was not saved: ${err instanceof Error ? err.message : err}`;
      $("error").hidden = false;
      $("status").textContent = "";
      return;
    }
    await chrome.storage.local.set({ policy, ask_on: $("ask_on").value, enabled: $("enabled").checked });
    $("status").textContent = "Saved. Open compose windows use it at once.";
  });
}

main().catch((e) => {
  $("error").textContent = `mistype failed to load: ${e instanceof Error ? e.message : e}`;
  $("error").hidden = false;
});
