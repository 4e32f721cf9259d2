// The extension's settings: the organisation's managed policy (chrome.storage.managed, pushed with
// ExtensionInstallForcelist + 3rdparty policy) wins over what the user saved in the options page
// (chrome.storage.local). Shared by the content script and the options page.
globalThis.mistypeSettings = async function mistypeSettings() {
  let managed = {};
  try {
    managed = (await chrome.storage.managed.get(null)) || {};
  } catch {
    managed = {}; // no managed storage on this platform
  }
  const local = (await chrome.storage.local.get(["policy", "ask_on", "enabled"])) || {};
  const pick = (k, d) => (managed[k] !== undefined ? managed[k] : local[k] !== undefined ? local[k] : d);
  return {
    policy: pick("policy", "") || null,
    ask_on: pick("ask_on", "warn") === "block" ? "block" : "warn",
    enabled: pick("enabled", true) !== false,
    managed: Object.keys(managed).filter((k) => ["policy", "ask_on", "enabled"].includes(k)),
  };
};
