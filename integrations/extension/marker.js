// At document start, in every frame, before the page's own scripts:
// - tells pages that bring their own mistype check (the project's demo page) that the extension
//   takes over;
// - registers the extension's send gate first in the capture phase of the window, so that a
//   send (a click on Send, Ctrl+Enter, a submit) is seen before any handler of the page, and a
//   handler of the page cannot hide it. The compose check (content.js) plugs into it through
//   globalThis.mistypeListen once it has found a compose window.
(() => {
  "use strict";
  document.documentElement.setAttribute("data-mistype-extension", "loading");
  const handlers = new Map();
  for (const type of ["pointerdown", "mousedown", "pointerup", "mouseup", "click", "keydown", "submit"]) {
    handlers.set(type, new Set());
    window.addEventListener(
      type,
      (event) => {
        for (const fn of handlers.get(type)) {
          try {
            fn(event);
          } catch (e) {
            document.documentElement.setAttribute("data-mistype-error", String((e && e.message) || e));
          }
        }
      },
      true,
    );
  }
  globalThis.mistypeListen = (type, fn) => {
    const set = handlers.get(type);
    if (!set) throw new Error(`mistypeListen: no gate for ${type}`);
    set.add(fn);
    return () => set.delete(fn);
  };
})();
