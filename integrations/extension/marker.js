// At document start: tells pages that bring their own mistype check (the project's demo page)
// that the extension takes over, before their scripts run.
document.documentElement.setAttribute("data-mistype-extension", "loading");
